/**
 * Real daemons and the real CLI, as a user runs them: the compiled bin (dist/) in child
 * processes, each daemon with its own temp data root, socket and Raft port on 127.0.0.1.
 * Everything a test starts is registered here and removed by cleanupAll(), also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { socketIsLive } from '../../src/daemon/local-socket.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledPath } from '../support/compiled.js';

export const mainJs = (): string => compiledPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Generous bounds against hangs only; nothing here waits for a fixed time. */
const START_DEADLINE_MS = 20_000;
const CLI_DEADLINE_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the CLI once and collects its output; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free TCP port on 127.0.0.1 (the kernel's pick, released at once for the daemon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0));
    });
  });
}

/** One daemon's home: data root and socket, kept across restarts of its process. */
export class DaemonHome {
  proc: ChildProcess | undefined;
  log = '';
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly dir: string,
    readonly dataRoot: string,
    readonly socket: string,
  ) {}

  get host(): string {
    return `unix://${this.socket}`;
  }

  /** The CLI against this daemon (with -D, so errors also print their code). */
  cli(...args: string[]): Promise<CliResult> {
    return runCli(['-D', '-H', this.host, ...args]);
  }

  private spawnDaemon(extraArgs: readonly string[]): ChildProcess {
    const child = spawn(process.execPath, [mainJs(), '-D', 'daemon', '--data-root', this.dataRoot, '-H', this.host, ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = child;
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    return child;
  }

  /** Starts `tsswarm daemon` and waits until its socket accepts connections. */
  async start(extraArgs: readonly string[] = []): Promise<void> {
    const child = this.spawnDaemon(extraArgs);
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await socketIsLive(this.socket))) {
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode} during start:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`daemon did not serve ${this.socket} within ${START_DEADLINE_MS} ms:\n${this.log}`);
      await sleep(50);
    }
  }

  /** Starts a daemon that is expected to refuse to run; resolves with its exit code. */
  async startExpectingExit(): Promise<number | null> {
    const child = this.spawnDaemon([]);
    const timer = setTimeout(() => child.kill('SIGKILL'), START_DEADLINE_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.proc;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), START_DEADLINE_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

const homes: DaemonHome[] = [];

/**
 * A fresh home under a short temp path (unix socket paths are limited to 107 bytes); `share`
 * points it at another home's socket or data root, to test that two daemons cannot share them.
 */
export async function newHome(share: { socket?: string; dataRoot?: string } = {}): Promise<DaemonHome> {
  const dir = await mkdtemp(join(tmpdir(), 'tsw-'));
  const home = new DaemonHome(dir, share.dataRoot ?? join(dir, 'data'), share.socket ?? join(dir, 'tsswarm.sock'));
  homes.push(home);
  return home;
}

/** Kills every daemon the test started and removes its directories. */
export async function cleanupAll(): Promise<void> {
  const all = homes.splice(0);
  await Promise.all(all.map((h) => h.stop('SIGKILL')));
  await Promise.all(all.map((h) => rm(h.dir, { recursive: true, force: true })));
}

/** The stable error code that `-D` prints after the error message. */
export function errorCode(result: CliResult): string | undefined {
  return /^Error code: (\w+)$/m.exec(result.stderr)?.[1];
}
