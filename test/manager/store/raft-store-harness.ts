import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { silentLogger } from '../../../src/log/logger.js';
import { RaftNode, type RaftNodeConfigInput } from '../../../src/manager/raft/node/index.js';
import { MemoryStore } from '../../../src/manager/store/index.js';
import { until } from '../../support/wait.js';

/** A MemoryStore that counts restore() calls, to tell a snapshot catch-up from a log replay. */
export class CountingStore extends MemoryStore {
  restores = 0;
  override restore(data: Uint8Array): void {
    this.restores++;
    super.restore(data);
  }
}

/** A free TCP port on 127.0.0.1, asked of the kernel by binding port 0 (then released). */
async function freePort(): Promise<number> {
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

export interface StoreMember {
  readonly id: string;
  readonly addr: string;
  readonly dir: string;
  store: CountingStore;
  node: RaftNode | undefined;
}

/** Fast ticks (elections in about half a second) and small snapshots, so a short test compacts. */
const config: RaftNodeConfigInput = { tickMs: 50, electionTick: 10, heartbeatTick: 1, proposalTimeoutMs: 5_000, snapshotInterval: 20, snapshotKeepEntries: 5 };

/**
 * Managers in this process on loopback: each a RaftNode whose state machine is a MemoryStore.
 * destroy() stops every node and removes every directory; tests call it in afterEach.
 */
export class StoreCluster {
  readonly members = new Map<string, StoreMember>();
  private root = '';

  async init(ids: string[]): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'tsswarm-store-'));
    for (const id of ids) {
      this.members.set(id, { id, addr: `127.0.0.1:${await freePort()}`, dir: join(this.root, id), store: new CountingStore(), node: undefined });
    }
  }

  /** Starts (or restarts, from its directory) a member with a brand-new, empty store. */
  async start(id: string): Promise<StoreMember> {
    const m = this.members.get(id)!;
    const all = new Map([...this.members.values()].map((x) => [x.id, x.addr]));
    m.store = new CountingStore();
    m.node = await RaftNode.start({
      id,
      listen: m.addr,
      dataDir: m.dir,
      initialMembers: all,
      peerHints: all,
      stateMachine: m.store,
      logger: silentLogger(),
      serverCredentials: ServerCredentials.createInsecure(),
      channelCredentials: ChannelCredentials.createInsecure(),
      config,
    });
    m.store.attach(m.node);
    return m;
  }

  async stop(id: string): Promise<void> {
    const m = this.members.get(id)!;
    const n = m.node;
    m.node = undefined;
    m.store.close();
    await n?.stop();
  }

  running(): StoreMember[] {
    return [...this.members.values()].filter((m) => m.node !== undefined);
  }

  /** Waits until one running member leads and every running member follows it. */
  async leader(): Promise<StoreMember> {
    let found: StoreMember | undefined;
    await until(() => {
      const ms = this.running();
      found = ms.find((m) => m.node!.status().role === 'leader');
      return found !== undefined && ms.every((m) => m.node!.status().leaderId === found!.id);
    }, 'a leader');
    return found!;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.stop(id).catch(() => undefined)));
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }
}

export { until };
