import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TsswarmError } from '../errors/index.js';
import { socketIsLive } from '../daemon/local-socket.js';
import { processAlive, readProcStat } from '../worker/runtime/proc-stat.js';
import { describeFailure, runTsswarm, type TsswarmBinary } from './cli-runner.js';
import type { DaemonRecord, TestbedHost, TestbedState } from './state.js';

/**
 * One host's `tsswarm daemon`: started inside the host's network namespace (nsenter --net,
 * which execs, so the PID is the daemon's), detached in its own session so it outlives the
 * `cluster up` that started it, with its output in a log file under the test bed.
 */

export interface DaemonPaths {
  readonly socket: string;
  readonly dataRoot: string;
  readonly log: string;
}

/**
 * Where a host's daemon keeps things, all under the test bed's directory so `down` removes
 * them. The exec root (task and overlay namespaces) is the host's runDir.
 */
export function daemonPaths(state: Pick<TestbedState, 'root' | 'name'>, host: Pick<TestbedHost, 'name'>): DaemonPaths {
  const dir = join(state.root, state.name);
  return {
    socket: join(dir, 'sock', `${host.name}.sock`),
    dataRoot: join(dir, 'data', host.name),
    log: join(dir, 'logs', `${host.name}.log`),
  };
}

/** The argv that runs the host's daemon in its namespace. */
export function daemonArgv(bin: TsswarmBinary, host: TestbedHost, paths: DaemonPaths, extra: readonly string[] = []): string[] {
  return [
    'nsenter',
    `--net=${host.nsPath}`,
    bin.node,
    bin.mainJs,
    '-D',
    '-H',
    `unix://${paths.socket}`,
    'daemon',
    '--data-root',
    paths.dataRoot,
    '--exec-root',
    host.runDir,
    '--node-name',
    host.name,
    ...extra,
  ];
}

export interface StartedDaemon {
  readonly record: DaemonRecord;
  /** Resolves with a description of how the process ended, should it end. */
  readonly exited: Promise<string>;
}

/** Spawns the daemon and returns at once with its PID and start time (not yet serving). */
export async function spawnHostDaemon(
  bin: TsswarmBinary,
  host: TestbedHost,
  paths: DaemonPaths,
  role: DaemonRecord['role'],
  extra: readonly string[] = [],
): Promise<StartedDaemon> {
  await Promise.all([mkdir(dirname(paths.socket), { recursive: true }), mkdir(paths.dataRoot, { recursive: true }), mkdir(dirname(paths.log), { recursive: true })]);
  const fd = openSync(paths.log, 'a');
  const [cmd, ...args] = daemonArgv(bin, host, paths, extra);
  let child;
  try {
    child = spawn(cmd as string, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolve) => {
    child.on('error', (e) => resolve(`could not be started: ${e.message}`));
    child.on('exit', (code, sig) => resolve(sig !== null ? `was killed by ${sig}` : `exited with ${code}`));
  });
  child.unref();
  const pid = child.pid;
  const st = pid === undefined ? undefined : await readProcStat(pid);
  if (pid === undefined || st === undefined) {
    throw new TsswarmError('TESTBED_UP_FAILED', { name: host.name, step: `starting the daemon of ${host.name}`, reason: `the daemon ${await exited}` });
  }
  return { record: { host: host.name, role, pid, startTime: st.startTime, ...paths }, exited };
}

/** The last lines of a daemon's log, for error messages. */
export async function logTail(log: string, lines: number): Promise<string> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail === '' ? `(log ${log} is empty)` : `last lines of ${log}:\n${tail}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the daemon's socket answers `tsswarm info`; throws TESTBED_UP_FAILED (with the
 * log's tail) when it exits first or the deadline passes.
 */
export async function waitServing(
  bin: TsswarmBinary,
  started: StartedDaemon,
  opts: { name: string; timeoutMs: number; pollMs: number; cliTimeoutMs: number; logTailLines: number },
): Promise<void> {
  const d = started.record;
  let ended: string | undefined;
  void started.exited.then((how) => (ended = how));
  const deadline = Date.now() + opts.timeoutMs;
  const fail = async (reason: string): Promise<never> => {
    throw new TsswarmError('TESTBED_UP_FAILED', { name: opts.name, step: `starting the daemon of ${d.host}`, reason: `${reason}; ${await logTail(d.log, opts.logTailLines)}` });
  };
  let last = 'its socket never accepted a connection';
  for (;;) {
    if (ended !== undefined || !(await processAlive(d.pid, d.startTime))) {
      await sleep(opts.pollMs); // let the exit event land, for its code
      return fail(`the daemon ${ended ?? 'ended'}`);
    }
    if (await socketIsLive(d.socket)) {
      const r = await runTsswarm(bin, d.socket, ['info'], opts.cliTimeoutMs);
      if (r.code === 0) return;
      last = describeFailure(['info'], r);
    }
    if (Date.now() > deadline) return fail(`it did not answer within ${opts.timeoutMs} ms (${last})`);
    await sleep(opts.pollMs);
  }
}
