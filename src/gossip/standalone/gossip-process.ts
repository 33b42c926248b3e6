/**
 * Starting, driving and killing standalone gossip nodes (gossip-main.ts, compiled to dist/)
 * as OS processes on loopback addresses, for the multi-process test and the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { GossipEvent, MemberView } from '../core/types.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
}

export const gossipMain = join(findRepoRoot(), 'dist/src/gossip/standalone/gossip-main.js');

export interface GossipProcessSpec {
  id: string;
  /** Loopback address of its own, e.g. 127.46.1.3. */
  addr: string;
  port: number;
  keys: string[];
  seeds: string[];
  networks: string[];
  profile: 'lan' | 'local';
}

export type ProcessEvent = { event: GossipEvent & { value?: string }; at: number };

export class GossipProcess {
  child: ChildProcess | undefined;
  readonly events: ProcessEvent[] = [];
  stderr = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Promise<void> = Promise.resolve();
  ready: Promise<void> = Promise.resolve();

  constructor(readonly spec: GossipProcessSpec) {}

  get gossipAddr(): string {
    return `${this.spec.addr}:${this.spec.port}`;
  }

  start(): void {
    const s = this.spec;
    const args = [gossipMain, '--id', s.id, '--addr', s.addr, '--port', String(s.port), '--keys', s.keys.join(','), '--profile', s.profile];
    if (s.seeds.length > 0) args.push('--seeds', s.seeds.join(','));
    if (s.networks.length > 0) args.push('--networks', s.networks.join(','));
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TSSWARM_LOG_LEVEL: process.env.TSSWARM_LOG_LEVEL ?? 'warn' } });
    this.child = child;
    this.events.length = 0;
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    let markReady: () => void = () => {};
    let failReady: (e: Error) => void = () => {};
    this.ready = new Promise((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let o: { id?: number; ok?: boolean; result?: unknown; error?: string; code?: string; ready?: boolean; event?: unknown; at?: number };
      try {
        o = JSON.parse(line);
      } catch {
        return;
      }
      if (o.ready === true) markReady();
      else if (o.event !== undefined) this.events.push(o as ProcessEvent);
      else if (o.id !== undefined) {
        const w = this.waiting.get(o.id);
        this.waiting.delete(o.id);
        if (o.ok === true) w?.resolve(o.result);
        else w?.reject(Object.assign(new Error(o.error ?? 'failed'), { code: o.code }));
      }
    });
    this.exited = new Promise((r) => {
      child.once('exit', () => {
        failReady(new Error(`${s.id} exited before it was ready: ${this.stderr}`));
        for (const w of this.waiting.values()) w.reject(new Error(`${s.id} exited`));
        this.waiting.clear();
        r();
      });
      child.once('error', () => r());
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  request<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (!this.running) return Promise.reject(new Error(`${this.spec.id} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child!.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  }

  members(): Promise<MemberView[]> {
    return this.request<MemberView[]>('members');
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
