/**
 * Starting, killing and restarting standalone members as OS processes, for the multi-process
 * test and the benchmark. Members listen on 127.0.0.1-3 (all of 127.0.0.0/8 is loopback).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memberStatus } from './raft-client.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
}

/** The repository root (found from this module, in src/ or dist/src/). */
export const repoRoot = findRepoRoot();
/** The compiled member entry: member processes always run the built code. */
export const memberMain = join(repoRoot, 'dist/src/manager/raft/standalone/member-main.js');

async function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, host, () => srv.close(() => res(true)));
  });
}

/**
 * The port the members listen on at 127.0.0.1-3: $envVar (default 2377, the manager port)
 * if it is free on all three addresses, else a free one, so parallel runs never collide.
 */
export async function pickPort(envVar: string): Promise<number> {
  const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  const wanted = Number(process.env[envVar] ?? 2377);
  const free = async (p: number): Promise<boolean> => (await Promise.all(hosts.map((h) => canBind(h, p)))).every(Boolean);
  if (await free(wanted)) return wanted;
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 30_000);
    if (await free(p)) return p;
  }
  throw new Error('no free port on 127.0.0.1-3');
}

export interface MemberSpec {
  id: string;
  addr: string;
  dataDir: string;
  logFile: string;
  extraArgs: string[];
}

/** One member process; restartable. */
export class MemberProcess {
  child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: MemberSpec,
    private readonly peers: string,
  ) {}

  start(): void {
    const log = createWriteStream(this.spec.logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [memberMain, '--id', this.spec.id, '--listen', this.spec.addr, '--peers', this.peers, '--data-dir', this.spec.dataDir, ...this.spec.extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.pipe(log);
    // A failed spawn counts as an exit; its reason goes to the member's log.
    this.exited = new Promise((r) => {
      child.once('exit', () => r());
      child.once('error', (err) => {
        log.end(`spawn failed: ${err.message}\n`);
        r();
      });
    });
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no shutdown code runs, the kernel closes its sockets. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Polls the members' Status until one leads and every given member names it. */
export async function waitForLeader(addrs: readonly string[], ms = 20_000): Promise<{ id: string; addr: string; term: number }> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const st = await Promise.all(addrs.map((a) => memberStatus(a, 1_000).catch(() => undefined)));
    const leader = st.find((s) => s?.role === 'leader');
    if (leader !== undefined && st.every((s) => s !== undefined && s.leaderId === leader.id)) {
      return { id: leader.id, addr: leader.leaderAddr, term: leader.term };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader agreed on within ' + ms + ' ms');
}
