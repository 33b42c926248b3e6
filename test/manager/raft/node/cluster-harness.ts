import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../../../../src/log/logger.js';
import { TsswarmError } from '../../../../src/errors/index.js';
import { RaftNode, diskLogOpener, type OpenedLog, type RaftNodeConfigInput, type StateMachine } from '../../../../src/manager/raft/node/index.js';
import { until } from '../../../support/wait.js';

/**
 * The real disk log, with a switch that makes every later save fail as a broken disk would
 * (STORAGE_IO), to test the driver's reaction to a fatal storage error.
 */
export function failingDiskLog(flag: { fail: boolean }): (dir: string, logger: Logger) => Promise<OpenedLog> {
  return async (dir, logger) => {
    const opened = await diskLogOpener()(dir, logger);
    const real = opened.log;
    const broken = (): Promise<never> => Promise.reject(new TsswarmError('STORAGE_IO', { file: dir, reason: 'injected by the test' }));
    return {
      recovered: opened.recovered,
      log: {
        save: (hs, entries, sync) => (flag.fail ? broken() : real.save(hs, entries, sync)),
        saveSnapshot: (snap) => (flag.fail ? broken() : real.saveSnapshot(snap)),
        releaseTo: (index) => real.releaseTo(index),
        close: () => real.close(),
      },
    };
  };
}

/** A state machine that keeps the applied commands as strings, in order. */
export class ListStateMachine implements StateMachine {
  items: string[] = [];
  apply(_index: number, data: Uint8Array): void {
    this.items.push(Buffer.from(data).toString('utf8'));
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(Buffer.from(data).toString('utf8')) as string[];
  }
}

/** A free TCP port on 127.0.0.1 (bound once and released; fine for a test on loopback). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fast ticks so elections take about half a second; tests wait with generous deadlines. */
export const testConfig: RaftNodeConfigInput = { tickMs: 50, electionTick: 10, heartbeatTick: 1, proposalTimeoutMs: 5_000 };

export interface Member {
  id: string;
  addr: string;
  dir: string;
  sm: ListStateMachine;
  node: RaftNode | undefined;
}

/**
 * Several RaftNodes in this process on loopback, each with its own data dir and port. Every
 * node is stopped and every dir removed by destroy(), which tests call in afterEach.
 */
export class Cluster {
  readonly members = new Map<string, Member>();
  private root = '';

  async init(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'tsswarm-raft-node-'));
  }

  async addMember(id: string): Promise<Member> {
    const m: Member = { id, addr: `127.0.0.1:${await freePort()}`, dir: join(this.root, id), sm: new ListStateMachine(), node: undefined };
    this.members.set(id, m);
    return m;
  }

  async start(id: string, opts: { bootstrap?: string[]; config?: RaftNodeConfigInput; openLog?: (dir: string, logger: Logger) => Promise<OpenedLog> } = {}): Promise<RaftNode> {
    const m = this.members.get(id)!;
    m.sm = new ListStateMachine();
    const all = new Map([...this.members.values()].map((x) => [x.id, x.addr]));
    const initial = opts.bootstrap === undefined ? undefined : new Map(opts.bootstrap.map((b) => [b, all.get(b)!]));
    m.node = await RaftNode.start({
      id,
      listen: m.addr,
      dataDir: m.dir,
      ...(initial === undefined ? {} : { initialMembers: initial }),
      peerHints: all,
      stateMachine: m.sm,
      logger: silentLogger(),
      serverCredentials: ServerCredentials.createInsecure(),
      channelCredentials: ChannelCredentials.createInsecure(),
      config: { ...testConfig, ...opts.config },
      ...(opts.openLog === undefined ? {} : { openLog: opts.openLog }),
    });
    return m.node;
  }

  async stop(id: string): Promise<void> {
    const m = this.members.get(id)!;
    const n = m.node;
    m.node = undefined;
    await n?.stop();
  }

  node(id: string): RaftNode {
    const n = this.members.get(id)?.node;
    if (n === undefined) throw new Error(`${id} is not running`);
    return n;
  }

  running(): RaftNode[] {
    return [...this.members.values()].flatMap((m) => (m.node === undefined ? [] : [m.node]));
  }

  /** Waits until one running node leads and all running voters agree on it. */
  async leader(ms = 15_000): Promise<RaftNode> {
    let found: RaftNode | undefined;
    await until(() => {
      const nodes = this.running();
      const l = nodes.find((n) => n.status().role === 'leader');
      if (l === undefined) return false;
      found = l;
      return nodes.every((n) => n.status().leaderId === l.id || n.status().members.every((x) => x.id !== n.id));
    }, 'a leader', ms);
    return found!;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.stop(id).catch(() => undefined)));
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }
}

export const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

export { until };
