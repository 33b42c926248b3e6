import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsswarmError } from '../../errors/index.js';

/**
 * Runs many small kernel commands with ONE process spawn from Node: the commands become the
 * lines of a /bin/sh script, each with its own stdout/stderr/exit-status files. Spawning a
 * process from Node costs milliseconds (fork of a large process); a shell that execs `ip`
 * costs well under one, so this is what keeps reconciling hundreds of namespaces fast.
 */
export interface ScriptUnit {
  /** The nsfs file to enter first (nsenter --net=...), or undefined to stay where we are. */
  readonly nsPath?: string;
  /** The command, quoted for the shell by runScript. */
  readonly argv?: readonly string[];
  /** Or a shell snippet used as it is (for mkdir/touch/unshare sequences). */
  readonly raw?: string;
  /** Whether the caller needs the unit's stdout (read-backs); stderr is kept on failure. */
  readonly capture?: boolean;
  /** Written to a file whose path replaces the token "@FILE" in argv. */
  readonly file?: string;
}

export interface UnitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const TOOL_PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  nft: 'nftables',
  nsenter: 'util-linux',
  unshare: 'util-linux',
};

/** Single-quotes a word for /bin/sh. */
export function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Runs argv directly and returns its output; used for one-off commands. */
export function runCommand(argv: readonly string[], input?: string): Promise<UnitResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new TsswarmError('INTERNAL', { detail: 'runCommand: empty argv' });
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new TsswarmError('KERNEL_TOOL_MISSING', { tool: cmd, package: TOOL_PACKAGES[cmd] ?? cmd }));
      } else reject(new TsswarmError('KERNEL_OP_FAILED', { op: 'spawn', object: cmd, reason: e.message }, { cause: e }));
    });
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    // A command that exits without reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/**
 * Runs the units in one shell, up to CONCURRENCY at a time (units of one call must not depend
 * on each other), and returns one result per unit. A failing unit does not stop the others:
 * the caller attributes failures to its ops. stdout is read back only for units with capture.
 */
export function runScript(units: readonly ScriptUnit[]): Promise<UnitResult[]> {
  if (units.length === 0) return Promise.resolve([]);
  return session.run(units);
}

/** Parallel units per call: most of their time is spent waiting on the kernel, not on a CPU. */
const CONCURRENCY = 16;
const HEREDOC_END = '__TSSWARM_EOF__';

interface Pending {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

type RefStream = { ref(): void; unref(): void };

/**
 * One long-lived /bin/sh that runs scripts sent on its stdin and reports each unit's exit
 * status and the end of each script on its stdout. Spawning a process from Node costs about
 * 8 ms on a loaded machine; a running shell starts `ip` in about 1 ms. The shell is restarted
 * if it dies, and does not keep the Node process alive when idle.
 */
class ShellSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private readonly codes = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private calls = 0;
  private dir: string | undefined;

  /**
   * One temp dir per process for the units' output files, removed when the process exits.
   * A process killed -9 cannot remove its own: its name carries the PID, so the next process
   * that makes one removes those of processes that are gone.
   */
  private workDir(): string {
    if (this.dir === undefined) {
      sweepStaleWorkDirs();
      const dir = mkdtempSync(join(tmpdir(), `${WORK_DIR_PREFIX}${process.pid}-`));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      this.dir = dir;
    }
    return this.dir;
  }

  run(units: readonly ScriptUnit[]): Promise<UnitResult[]> {
    const next = this.queue.then(() => this.runNow(units));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.child?.stdin.end();
    this.child?.kill('SIGKILL');
    this.child = undefined;
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child !== undefined) return this.child;
    const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => this.onData(b.toString('utf8')));
    child.stderr.on('data', () => undefined);
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      if (this.child === child) this.onExit(e);
    });
    child.on('exit', () => {
      if (this.child === child) this.onExit(new Error('the kernel helper shell exited'));
    });
    this.child = child;
    this.idle(true);
    return child;
  }

  private idle(idle: boolean): void {
    const c = this.child;
    if (c === undefined) return;
    for (const s of [c, c.stdin, c.stdout, c.stderr] as unknown as RefStream[]) {
      if (idle) s.unref();
      else s.ref();
    }
  }

  private onExit(e: Error): void {
    this.child = undefined;
    this.buffer = '';
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const rc = /^@@rc (\d+) (\d+) (\d+)$/.exec(line);
      if (rc !== null) this.codes.set(`${rc[1]}:${rc[2]}`, Number(rc[3]));
      const done = /^@@done (\d+)$/.exec(line);
      if (done !== null) {
        const p = this.pending.get(Number(done[1]));
        this.pending.delete(Number(done[1]));
        p?.resolve();
      }
    }
  }

  private async runNow(units: readonly ScriptUnit[]): Promise<UnitResult[]> {
    const call = ++this.calls;
    const dir = this.workDir();
    const made: string[] = [];
    try {
      const lines: string[] = [];
      await Promise.all(
        units.map(async (u, i) => {
          let argv = (u.argv ?? []).map(shq);
          let stdin = '</dev/null';
          if (u.file !== undefined) {
            // Small inputs go inline as a here-document (no file to write); "-" reads stdin.
            const inline = u.file.length < 65536 && !u.file.includes(HEREDOC_END);
            const f = join(dir, `${call}.${i}.in`);
            if (!inline) {
              await writeFile(f, u.file);
              made.push(f);
            }
            argv = argv.map((a) => (a === `'@FILE'` ? (inline ? '-' : shq(f)) : a));
            if (inline) stdin = `<<'${HEREDOC_END}'\n${u.file.endsWith('\n') ? u.file : `${u.file}\n`}${HEREDOC_END}\n`;
          }
          const prefix = u.nsPath !== undefined ? `nsenter --net=${shq(u.nsPath)} ` : '';
          const base = shq(join(dir, `${call}.${i}`));
          made.push(`${join(dir, `${call}.${i}`)}.out`, `${join(dir, `${call}.${i}`)}.err`);
          const cmd = u.raw !== undefined ? `{ ${u.raw} ; }` : `${prefix}${argv.join(' ')}`;
          const redirect = `>${base}.out 2>${base}.err`;
          // A lone unit runs in the shell itself; several run as background subshells.
          const [open, close] = units.length === 1 ? ['{', '; }'] : ['(', ') &'];
          lines[i] = stdin.startsWith('<<')
            ? `${open} ${cmd} ${redirect} ${stdin}echo "@@rc ${call} ${i} $?" ${close}`
            : `${open} ${cmd} ${stdin} ${redirect}; echo "@@rc ${call} ${i} $?" ${close}`;
        }),
      );
      const script: string[] = [];
      for (let i = 0; i < lines.length; i += CONCURRENCY) script.push(...lines.slice(i, i + CONCURRENCY), ...(lines.length > 1 ? ['wait'] : []));
      script.push(`echo "@@done ${call}"`, '');
      const child = this.start();
      const done = new Promise<void>((resolve, reject) => this.pending.set(call, { resolve, reject }));
      this.idle(false);
      try {
        child.stdin.write(script.join('\n'));
        await done;
      } finally {
        this.idle(true);
      }
      return await Promise.all(
        units.map(async (u, i) => {
          const key = `${call}:${i}`;
          const code = this.codes.get(key) ?? -1;
          this.codes.delete(key);
          const base = join(dir, `${call}.${i}`);
          const [stdout, stderr] = await Promise.all([
            u.capture === true ? readFile(`${base}.out`, 'utf8').catch(() => '') : '',
            code !== 0 ? readFile(`${base}.err`, 'utf8').catch(() => '') : '',
          ]);
          if (code === 127 && /not found/.test(stderr)) {
            const tool = /(\S+): not found/.exec(stderr)?.[1] ?? u.argv?.[0] ?? '?';
            throw new TsswarmError('KERNEL_TOOL_MISSING', { tool, package: TOOL_PACKAGES[tool] ?? tool });
          }
          return { code, stdout, stderr };
        }),
      );
    } finally {
      await Promise.all(made.map((f) => rm(f, { force: true })));
    }
  }
}

const WORK_DIR_PREFIX = 'tsswarm-k-';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The work dirs in the temp dir with the PID in their name (NaN: a name from an older build). */
function workDirs(): Array<{ readonly name: string; readonly pid: number }> {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(WORK_DIR_PREFIX)).map((name) => ({ name, pid: Number(/^tsswarm-k-(\d+)-/.exec(name)?.[1] ?? NaN) }));
}

/** Other processes that still run and own a work dir (a test run waits for them to end). */
export function liveWorkDirOwners(): number[] {
  return workDirs().filter((d) => Number.isInteger(d.pid) && d.pid !== process.pid && processAlive(d.pid)).map((d) => d.pid);
}

/**
 * Removes the work dirs of processes that no longer run (tsswarm-k-PID-XXXXXX in the temp
 * dir; a name without a PID is from an older build and removed as well).
 */
export function sweepStaleWorkDirs(): void {
  for (const { name, pid } of workDirs()) {
    if (pid === process.pid || (Number.isInteger(pid) && processAlive(pid))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

const session = new ShellSession();

/**
 * Stops the helper shell and removes its temp dir. For tests and tools that must leave
 * nothing behind (test runners may end worker processes without an 'exit' event); the next
 * runScript starts a new session.
 */
export function closeScriptSession(): void {
  session.close();
}

/**
 * Splits the stderr of `ip -force -batch` / `bridge -force -batch` into per-line errors:
 * each failed line is followed by "Command failed FILE:LINE", its message precedes that.
 */
export function batchErrors(stderr: string): Map<number, string> {
  const errors = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed .*:(\d+)$/.exec(line);
    if (m !== null) {
      errors.set(Number(m[1]), pending.join('; ') || 'failed');
      pending = [];
    } else if (line.trim() !== '') {
      pending.push(line.trim());
    }
  }
  return errors;
}
