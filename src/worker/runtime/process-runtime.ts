import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { TsswarmError, errorMessage } from '../../errors/index.js';
import { taskHostsFile, taskResolvConf } from './etc-files.js';
import { STDERR_LOG, STDOUT_LOG, readLogFiles, sleep } from './log-files.js';
import { childPids, processAlive, processTreeMentioning, readProcStat } from './proc-stat.js';
import { parseProcessRuntimeConfig, type ProcessRuntimeConfig } from './runtime-config.js';
import type { ExecResult, LogLine, LogOptions, Observed, Runtime, RunSpec, RuntimeRef } from './runtime.js';

type ProcessRef = Extract<RuntimeRef, { kind: 'process' }>;

export const EXIT_CODE_FILE = 'exit-code';
/**
 * Written by stop() before it sends SIGKILL. unshare reports a child killed by SIGKILL as a
 * plain exit 1 (it cannot re-raise SIGKILL on itself), so this marker is how 128+9 is known.
 */
const KILLED_FILE = 'killed';
const WORK_DIR = 'work';
/** Exit code of the setup script when it cannot prepare the namespaces (Docker uses 125 alike). */
export const SETUP_FAILED_EXIT = 125;

/**
 * Outside every namespace: runs the rest of its arguments and records their exit status in
 * the file named by $1 (temp file + rename), so that a daemon that was not there when the task
 * ended still learns how it ended. A constant script: all values are positional arguments.
 */
const SUPERVISOR_SCRIPT = 'f=$1; shift; "$@"; c=$?; printf "%d\\n" "$c" >"$f.tmp" && mv -f "$f.tmp" "$f"; exit "$c"';

/**
 * PID 1 of the task's namespaces, before it becomes the task: sets the hostname, binds the
 * task's hosts and resolv.conf over the host's (the mount namespace is private, so nothing
 * leaks out), enters the working directory, drops to the user, then execs the program so the
 * program itself is PID 1. Constant, positional arguments only: no shell injection.
 */
const INIT_SCRIPT = [
  'h=$1; hosts=$2; resolv=$3; dir=$4; u=$5; g=$6; shift 6',
  'printf "%s" "$h" >/proc/sys/kernel/hostname || exit 125',
  'mount --bind "$hosts" /etc/hosts || exit 125',
  'mount --bind "$resolv" /etc/resolv.conf || exit 125',
  'cd "$dir" || exit 125',
  'if [ -n "$u" ]; then',
  '  [ -n "$g" ] || g=$(id -g "$u") || exit 125',
  '  exec setpriv --reuid="$u" --regid="$g" --clear-groups -- "$@"',
  'fi',
  'exec "$@"',
].join('\n');

/**
 * The built-in runtime: IMAGE is a program on the host. The task runs in the sandbox's network
 * namespace and in UTS, IPC, PID and mount namespaces of its own (nsenter + unshare), detached
 * from the daemon (own session, stdio straight to files in its directory), so it outlives a
 * daemon restart and the next daemon adopts it by PID + start time.
 */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly cfg: ProcessRuntimeConfig;

  constructor(config: unknown = {}) {
    this.cfg = parseProcessRuntimeConfig(config);
  }

  /** The search path, as named in TASK_PROGRAM_NOT_FOUND. */
  get searchPath(): string {
    return this.cfg.searchPath;
  }

  async prepare(spec: RunSpec): Promise<void> {
    await this.resolveProgram(spec.image);
    if (spec.dir !== '' && !isAbsolute(spec.dir)) {
      throw new TsswarmError('TASK_SPEC_INVALID', { taskId: spec.taskId, reason: `working directory "${spec.dir}" is not absolute` });
    }
    try {
      await access(spec.netnsPath);
    } catch {
      throw new TsswarmError('TASK_SANDBOX_FAILED', { taskId: spec.taskId, reason: `no network namespace at ${spec.netnsPath}` });
    }
  }

  /** The program's absolute path: IMAGE itself when absolute, else the first hit on the search path. */
  async resolveProgram(image: string): Promise<string> {
    const candidates = image.includes('/') ? (isAbsolute(image) ? [image] : []) : this.cfg.searchPath.split(':').filter((d) => d !== '').map((d) => join(d, image));
    for (const c of candidates) {
      try {
        await access(c, fsConstants.X_OK);
        if ((await stat(c)).isFile()) return c;
      } catch {
        // not this one
      }
    }
    throw new TsswarmError('TASK_PROGRAM_NOT_FOUND', { program: image, path: this.cfg.searchPath });
  }

  async start(spec: RunSpec): Promise<RuntimeRef> {
    const program = await this.resolveProgram(spec.image);
    const [user, group] = splitUser(spec.user);
    await mkdir(spec.taskDir, { recursive: true });
    const workDir = spec.dir !== '' ? spec.dir : join(spec.taskDir, WORK_DIR);
    await mkdir(workDir, { recursive: true });
    const hostsPath = join(spec.taskDir, 'hosts');
    const resolvPath = join(spec.taskDir, 'resolv.conf');
    await writeFile(hostsPath, taskHostsFile(spec.hostname));
    await writeFile(resolvPath, taskResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => '')));
    await rm(join(spec.taskDir, EXIT_CODE_FILE), { force: true });
    await rm(join(spec.taskDir, KILLED_FILE), { force: true });

    const argv = [
      '-c',
      SUPERVISOR_SCRIPT,
      'tsswarm-supervisor',
      join(spec.taskDir, EXIT_CODE_FILE),
      'nsenter',
      `--net=${spec.netnsPath}`,
      '--',
      'unshare',
      '--uts',
      '--ipc',
      '--pid',
      '--mount',
      '--fork',
      '--mount-proc',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      INIT_SCRIPT,
      'tsswarm-init',
      spec.hostname,
      hostsPath,
      resolvPath,
      workDir,
      user,
      group,
      program,
      ...spec.command,
      ...spec.args,
    ];
    const out = await open(join(spec.taskDir, STDOUT_LOG), 'a');
    const err = await open(join(spec.taskDir, STDERR_LOG), 'a');
    let supervisorPid: number;
    try {
      const child = spawn('/bin/sh', argv, {
        detached: true,
        stdio: ['ignore', out.fd, err.fd],
        env: taskEnv(spec, this.cfg.searchPath),
        cwd: spec.taskDir,
      });
      const spawned = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid ?? 0));
        child.once('error', reject);
      });
      child.unref();
      supervisorPid = spawned;
    } catch (e) {
      throw new TsswarmError('TASK_START_FAILED', { taskId: spec.taskId, reason: errorMessage(e) }, { cause: e });
    } finally {
      await out.close();
      await err.close();
    }
    const startedAtMs = Date.now();
    const supervisorStart = (await readProcStat(supervisorPid))?.startTime ?? 0;
    let task: { pid: number; startTime: number } | undefined;
    try {
      task = await this.findTaskProcess(spec.taskId, supervisorPid, supervisorStart);
    } catch (e) {
      // Nothing is recorded for a failed start: leave nothing running either.
      await this.removeUnrecorded(spec.taskId, spec.taskDir);
      throw e;
    }
    return { kind: 'process', supervisorPid, supervisorStart, pid: task?.pid ?? 0, pidStart: task?.startTime ?? 0, startedAtMs, taskDir: spec.taskDir };
  }

  /**
   * The task's own process is the supervisor's grandchild: supervisor -> nsenter (which
   * becomes unshare) -> PID 1 of the new namespaces. Undefined when the task ended before it
   * could be seen (its exit code is still recorded).
   */
  private async findTaskProcess(taskId: string, supervisorPid: number, supervisorStart: number): Promise<{ pid: number; startTime: number } | undefined> {
    const deadline = Date.now() + this.cfg.startTimeoutMs;
    while (Date.now() < deadline) {
      for (const mid of await childPids(supervisorPid)) {
        const midStat = await readProcStat(mid);
        if (midStat === undefined) continue;
        for (const pid of await childPids(mid)) {
          const st = await readProcStat(pid);
          // Returned once the init script has exec'd the program: the namespaces are set up.
          if (st !== undefined && !(await stillInitScript(pid))) return { pid, startTime: st.startTime };
        }
      }
      if (!(await processAlive(supervisorPid, supervisorStart))) return undefined;
      await sleep(5);
    }
    throw new TsswarmError('TASK_START_FAILED', { taskId, reason: `no task process appeared under supervisor ${supervisorPid}` });
  }

  async inspect(ref: RuntimeRef): Promise<Observed> {
    const r = asProcess(ref);
    const base = { pid: r.pid, containerId: '', startedAtMs: r.startedAtMs };
    if (await processAlive(r.supervisorPid, r.supervisorStart)) return { state: 'running', ...base };
    return { state: 'exited', exitCode: await readExitCode(r.taskDir), ...base };
  }

  async wait(ref: RuntimeRef, signal?: AbortSignal): Promise<Observed> {
    const r = asProcess(ref);
    while (signal?.aborted !== true && (await processAlive(r.supervisorPid, r.supervisorStart))) await sleep(this.cfg.pollIntervalMs, signal);
    return this.inspect(ref);
  }

  async stop(ref: RuntimeRef, graceMs: number): Promise<void> {
    const r = asProcess(ref);
    if (!(await processAlive(r.supervisorPid, r.supervisorStart))) return;
    // PID 1 of a PID namespace gets a signal from outside only if it handles it; SIGKILL always.
    await this.signalTask(r, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (await processAlive(r.supervisorPid, r.supervisorStart))) await sleep(Math.min(this.cfg.pollIntervalMs, Math.max(1, deadline - Date.now())));
    if (await processAlive(r.supervisorPid, r.supervisorStart)) await writeFile(join(r.taskDir, KILLED_FILE), 'SIGKILL\n');
    while (await processAlive(r.supervisorPid, r.supervisorStart)) {
      await this.signalTask(r, 'SIGKILL');
      await sleep(this.cfg.pollIntervalMs);
    }
  }

  /** Checked right before signalling, so that a reused PID is never hit. */
  private async signalTask(r: ProcessRef, signal: NodeJS.Signals): Promise<void> {
    const targets: number[] = [];
    if (r.pid !== 0 && (await processAlive(r.pid, r.pidStart))) targets.push(r.pid);
    else if (signal === 'SIGKILL') {
      // The task process was never seen (or is gone): end whatever still runs under the
      // supervisor (whose start time the caller checked just before).
      for (const mid of await childPids(r.supervisorPid)) targets.push(...(await childPids(mid)), mid);
    }
    for (const pid of targets) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  async exec(ref: RuntimeRef, spec: RunSpec, cmd: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const r = asProcess(ref);
    if (r.pid === 0 || !(await processAlive(r.pid, r.pidStart))) {
      throw new TsswarmError('TASK_EXEC_FAILED', { taskId: spec.taskId, reason: 'the task process is not running' });
    }
    const dir = spec.dir !== '' ? spec.dir : join(spec.taskDir, WORK_DIR);
    const child = spawn('nsenter', [`--target=${r.pid}`, '--net', '--uts', '--ipc', '--pid', '--mount', `--wd=${dir}`, '--', ...cmd], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: taskEnv(spec, this.cfg.searchPath),
    });
    return collectExec(child, timeoutMs, () => {
      // nsenter forks into the PID namespace: end its whole process group.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
  }

  async remove(_ref: RuntimeRef): Promise<void> {
    // Nothing outside the task directory, which the executor removes.
  }

  async removeUnrecorded(_taskId: string, taskDir: string): Promise<void> {
    // The supervisor names the task's exit-code file; its tree is the task.
    for (const p of await processTreeMentioning(join(taskDir, EXIT_CODE_FILE))) {
      if (!(await processAlive(p.pid, p.startTime))) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  logs(ref: RuntimeRef, opts: LogOptions): AsyncIterable<LogLine> {
    const r = asProcess(ref);
    return readLogFiles(r.taskDir, { ...opts, pollMs: this.cfg.pollIntervalMs, ended: async () => !(await processAlive(r.supervisorPid, r.supervisorStart)) });
  }
}

async function stillInitScript(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('tsswarm-init\u0000');
}

function asProcess(ref: RuntimeRef): ProcessRef {
  if (ref.kind !== 'process') throw new TsswarmError('INTERNAL', { detail: `process runtime handed a ${ref.kind} reference` });
  return ref;
}

async function readExitCode(taskDir: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(join(taskDir, EXIT_CODE_FILE), 'utf8')).trim());
    if (!Number.isInteger(n)) return undefined;
    const killed = await access(join(taskDir, KILLED_FILE)).then(
      () => true,
      () => false,
    );
    return killed && n === 1 ? 128 + osConstants.signals.SIGKILL : n;
  } catch {
    return undefined;
  }
}

function splitUser(user: string): [string, string] {
  const i = user.indexOf(':');
  return i < 0 ? [user, ''] : [user.slice(0, i), user.slice(i + 1)];
}

/** The task's environment: nothing of the daemon's leaks in; a PATH and HOME unless given. */
export function taskEnv(spec: RunSpec, searchPath: string): Record<string, string> {
  const env: Record<string, string> = { PATH: searchPath, HOME: '/root', HOSTNAME: spec.hostname };
  for (const kv of spec.env) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** Collects an exec's output (first 4 KB) and exit code, killing it at the timeout. */
export function collectExec(
  child: ChildProcess,
  timeoutMs: number,
  kill: () => void,
): Promise<ExecResult> {
  const LIMIT = 4096;
  let output = '';
  const take = (b: Buffer) => {
    if (output.length < LIMIT) output = (output + b.toString('utf8')).slice(0, LIMIT);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ exitCode: -1, output: errorMessage(e), timedOut });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal !== null ? 128 + (osConstants.signals[signal] ?? 0) : -1), output, timedOut });
    });
  });
}
