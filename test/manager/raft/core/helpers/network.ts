import { bootstrapSnapshot, createRaftCore, decodeConfChange, defaultRaftCoreTunables, MemoryStorage } from '../../../../../src/manager/raft/core/index.js';
import type { RaftCoreTunables } from '../../../../../src/manager/raft/core/index.js';
import { EntryType, MessageType } from '../../../../../src/manager/raft/types.js';
import type {
  ConfState,
  Entry,
  Message,
  NodeId,
  RaftCore,
  ReadState,
  Ready,
  Snapshot,
} from '../../../../../src/manager/raft/types.js';
import { seededRng } from '../../../../../src/util/rng.js';
import type { Rng } from '../../../../../src/util/rng.js';

/** One member: its core, its storage and what its "state machine" has applied. */
export interface TestNode {
  readonly id: NodeId;
  core: RaftCore;
  readonly storage: MemoryStorage;
  /** Normal entries with data, in apply order (the no-op entries of new leaders are skipped). */
  applied: Entry[];
  /** Every ConfChange applied, in order. */
  confStates: ConfState[];
  readStates: ReadState[];
  snapshotsApplied: Snapshot[];
  readies: Ready[];
}

export interface NetworkOptions {
  tunables?: Partial<RaftCoreTunables>;
  seed?: number;
  /** Configuration every member starts with (default: all ids as voters). */
  confState?: ConfState;
  /** Members to create with empty configuration and log (joiners). */
  joiners?: readonly NodeId[];
  /**
   * Start the initial members from bootstrapSnapshot() as a real cluster does (the log then
   * starts at index 2), so joiners learn the first configuration from a snapshot.
   */
  bootstrap?: boolean;
}

/** A message hook returns false to drop the message, true to deliver it, or a replacement. */
export type MessageHook = (m: Message) => boolean | Message;

const text = new TextEncoder();
export const bytes = (s: string): Uint8Array => text.encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/**
 * A deterministic in-memory network of cores for tests: messages are delivered in FIFO order
 * when `stabilize()` runs; links can be cut, nodes isolated, message types ignored, and a
 * hook can inspect or drop each message. Each node is driven like the real driver would:
 * persist, then send, then apply, then advance.
 */
export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages waiting for delivery. */
  queue: Message[] = [];
  /** Every message ever delivered (after filtering), for assertions. */
  delivered: Message[] = [];
  hook: MessageHook | undefined;
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private readonly ignored = new Set<MessageType>();
  private readonly dropRates = new Map<string, number>();
  private readonly rng: Rng;
  private readonly tunables: RaftCoreTunables;

  constructor(ids: readonly NodeId[], options: NetworkOptions = {}) {
    this.rng = seededRng(options.seed ?? 1);
    this.tunables = { ...defaultRaftCoreTunables, ...options.tunables };
    const conf = options.confState ?? { voters: [...ids], learners: [] };
    for (const id of ids) {
      const storage = new MemoryStorage(options.bootstrap === true ? undefined : conf);
      if (options.bootstrap === true) storage.applySnapshot(bootstrapSnapshot(conf.voters, new Uint8Array(0)));
      this.add(id, storage);
    }
    for (const id of options.joiners ?? []) this.add(id, new MemoryStorage());
  }

  /** Add a member with the given storage (e.g. a preset log). */
  add(id: NodeId, storage: MemoryStorage, tunables: Partial<RaftCoreTunables> = {}): TestNode {
    const node: TestNode = {
      id,
      core: this.newCore(id, storage, 0, tunables),
      storage,
      applied: [],
      confStates: [],
      readStates: [],
      snapshotsApplied: [],
      readies: [],
    };
    this.nodes.set(id, node);
    return node;
  }

  private newCore(id: NodeId, storage: MemoryStorage, applied: number, tunables: Partial<RaftCoreTunables>): RaftCore {
    return createRaftCore({
      ...this.tunables,
      ...tunables,
      applied,
      id,
      storage,
      rng: seededRng(this.rng.int(2 ** 31)),
    });
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core;
  }

  /** A crash and restart from what was persisted; the state machine replays from scratch. */
  restart(id: NodeId): void {
    const n = this.node(id);
    n.core = this.newCore(id, n.storage, 0, {});
    n.applied = [];
    n.confStates = [];
  }

  // ---- faults ----------------------------------------------------------------------------

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  ignore(type: MessageType): void {
    this.ignored.add(type);
  }

  /** Drop messages from -> to with probability `rate` (from the network's seeded rng). */
  drop(from: NodeId, to: NodeId, rate: number): void {
    this.dropRates.set(`${from}>${to}`, rate);
  }

  recover(): void {
    this.cuts.clear();
    this.isolated.clear();
    this.ignored.clear();
    this.dropRates.clear();
  }

  /** The message as it is delivered, or undefined if it is lost. */
  private filter(m: Message): Message | undefined {
    if (!this.nodes.has(m.to)) return undefined;
    if (this.isolated.has(m.to) || this.isolated.has(m.from)) return undefined;
    if (this.cuts.has(`${m.from}>${m.to}`)) return undefined;
    if (this.ignored.has(m.type)) return undefined;
    const rate = this.dropRates.get(`${m.from}>${m.to}`);
    if (rate !== undefined && this.rng.float() < rate) return undefined;
    if (this.hook === undefined) return m;
    const verdict = this.hook(m);
    if (verdict === false) return undefined;
    return verdict === true ? m : verdict;
  }

  // ---- driving ---------------------------------------------------------------------------

  /** Handle one node's Ready as the driver would; returns whether there was one. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.core.hasReady()) return false;
    const rd = n.core.ready();
    n.readies.push(rd);
    // 1. persist
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    // 2. send
    for (const m of rd.messages) this.queue.push(m);
    // 3. apply
    if (rd.snapshot !== undefined) {
      n.snapshotsApplied.push(rd.snapshot);
      n.applied = [];
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) {
        n.confStates.push(n.core.applyConfChange(decodeConfChange(e.data)));
      } else if (e.data.length > 0) {
        n.applied.push(e);
      }
    }
    for (const rs of rd.readStates) n.readStates.push(rs);
    // 4. advance
    n.core.advance(rd);
    return true;
  }

  /** Drain every node's Readies (without delivering messages). */
  processAll(): void {
    for (const id of this.nodes.keys()) while (this.processReady(id)) { /* drain */ }
  }

  /** Deliver the queued messages (one round): each is stepped into its recipient. */
  deliverQueued(): number {
    const batch = this.queue;
    this.queue = [];
    let count = 0;
    for (const sent of batch) {
      const m = this.filter(sent);
      if (m === undefined) continue;
      this.delivered.push(m);
      this.node(m.to).core.step(m);
      count++;
    }
    return count;
  }

  /** Process Readies and deliver messages until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.processAll();
      if (this.queue.length === 0) return;
      this.deliverQueued();
    }
    throw new Error('network did not stabilize');
  }

  /** Step a message directly into its recipient (bypassing the filters), then stabilize. */
  send(m: Message): void {
    this.node(m.to).core.step(m);
    this.stabilize();
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).core.tick();
  }

  /** Tick every node `times` times, stabilizing after each round of ticks. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.core.tick();
      this.stabilize();
    }
  }

  /** Make `id` campaign now and run the election to its end. */
  elect(id: NodeId): void {
    this.core(id).campaign();
    this.stabilize();
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.core.status().role === 'leader').map((n) => n.id);
  }

  /** Propose on `id` and run to quiescence; returns the result. */
  propose(id: NodeId, data: string): ReturnType<RaftCore['propose']> {
    const res = this.core(id).propose(bytes(data));
    this.stabilize();
    return res;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id).applied.map((e) => str(e.data));
  }

  /** Delivered messages of a type, optionally to/from a node. */
  sent(type: MessageType, filter: { from?: NodeId; to?: NodeId } = {}): Message[] {
    return this.delivered.filter(
      (m) => m.type === type && (filter.from === undefined || m.from === filter.from) && (filter.to === undefined || m.to === filter.to),
    );
  }
}

/** A storage holding `terms` as the log: entry i+1 has term terms[i]. */
export function storageWithTerms(confState: ConfState, terms: readonly number[]): MemoryStorage {
  const s = new MemoryStorage(confState);
  s.append(terms.map((term, i) => ({ term, index: i + 1, type: EntryType.Normal, data: bytes(`t${term}i${i + 1}`) })));
  const last = terms[terms.length - 1] ?? 0;
  s.setHardState({ term: last, vote: '', commit: 0 });
  return s;
}

/** Collect the terms of a node's whole log (from storage, after processing). */
export function logTerms(n: TestNode): number[] {
  const out: number[] = [];
  for (let i = n.storage.firstIndex(); i <= n.storage.lastIndex(); i++) out.push(n.storage.term(i));
  return out;
}
