import { EntryType } from '../../../../src/manager/raft/types.js';
import type {
  ConfChange,
  ConfState,
  Message,
  NodeId,
  RaftCore,
  RaftCoreConfig,
  Ready,
} from '../../../../src/manager/raft/types.js';
import type { Rng } from '../../../../src/util/rng.js';
import { createRaftCore, decodeConfChange, type MemoryStorage } from './core-bindings.js';
import { bytesText, chainNext, decodeImage, encodeImage, type Chain } from './hash-chain.js';
import type { EventTrace } from './event-trace.js';
import { InvariantViolation, type InvariantChecker } from './invariant-checker.js';
import { SimDisk } from './sim-disk.js';

/** The core's tunables; the simulator picks them per seed. */
export type CoreTunables = Omit<RaftCoreConfig, 'id' | 'storage' | 'rng' | 'logger' | 'applied'>;

/** When the modelled driver snapshots its state machine and compacts its log. */
export interface SnapshotPolicy {
  /** Chance, after each applied Ready, of taking a snapshot. */
  readonly chance: number;
  /** Only when at least this many entries were applied since the last snapshot. */
  readonly minGap: number;
  /** Entries kept in memory below the snapshot, so slightly lagging followers still get entries. */
  readonly keep: number;
}

/** What a node needs from the world around it. */
export interface NodeEnv {
  readonly trace: EventTrace;
  readonly checker: InvariantChecker;
  readonly tunables: CoreTunables;
  readonly snapshotPolicy: SnapshotPolicy;
  /** The simulator's own randomness, for the driver's choices. */
  readonly rng: Rng;
  coreRng(id: NodeId, incarnation: number): Rng;
  send(from: SimNode, messages: readonly Message[]): void;
  onConfChangeApplied(node: SimNode, cc: ConfChange, index: number): void;
}

/**
 * Where a crash cuts the write of a Ready: its records are (snapshot?, entries..., hardState?)
 * in that order; given their number, a Tear says how many reached the disk.
 */
export type Tear = (records: number) => number;

/**
 * One manager process: a RaftCore, the in-memory log in front of its disk, a state machine,
 * and a driver that follows Ready's duties in order. A Ready is handled in two steps so that
 * the simulator can interleave other events between them, as a real driver's asynchronous
 * fsync would: (1) persist; (2) send, apply, advance.
 */
export class SimNode {
  readonly disk = new SimDisk();
  incarnation = 0;
  private coreInstance: RaftCore | undefined;
  private storage: MemoryStorage | undefined;
  /** A Ready whose persist step is done and whose send/apply/advance step is not. */
  private persisted: Ready | undefined;
  applied = 0;
  appliedChain: Chain = 0;
  confState: ConfState = { voters: [], learners: [] };
  /** index -> data of each Normal entry this node applied (all incarnations; scenarios read it). */
  readonly appliedData = new Map<number, string>();
  /** Contexts of the ReadStates this node received (all incarnations). */
  readonly readsServed: string[] = [];
  /** Set when the operator has shut the node down for good after its removal. */
  decommissioned = false;

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv,
  ) {}

  get up(): boolean {
    return this.coreInstance !== undefined;
  }

  get core(): RaftCore {
    if (this.coreInstance === undefined) throw new Error(`simulator: ${this.id} is down`);
    return this.coreInstance;
  }

  /** Start (or restart) the process from what its disk holds. */
  start(): void {
    if (this.up) throw new Error(`simulator: ${this.id} is already up`);
    const recovered = this.disk.recover();
    this.incarnation++;
    this.storage = recovered.storage;
    this.applied = recovered.snapshot.metadata.index;
    this.appliedChain = recovered.snapshotChain;
    this.confState = recovered.snapshot.metadata.confState;
    this.coreInstance = createRaftCore({
      ...this.env.tunables,
      id: this.id,
      applied: this.applied,
      storage: this.storage,
      rng: this.env.coreRng(this.id, this.incarnation),
    });
  }

  /**
   * Lose all volatile state. With a tear, the crash hits in the middle of persisting the next
   * Ready: a prefix of its records reaches the disk and none of its messages are sent. With
   * `loseUnsynced`, hard-state writes that were not fsynced (commit-only) are lost too.
   */
  crash(tear?: Tear, loseUnsynced = false): void {
    const core = this.core;
    if (tear !== undefined && this.persisted === undefined && core.hasReady()) {
      const rd = core.ready();
      const records = recordCount(rd);
      const written = Math.max(0, Math.min(records, tear(records)));
      this.env.trace.record({ kind: 'ready', node: this.id, rd, phase: 'persist' });
      this.env.trace.note(`${this.id} crashed mid-write: ${written} of ${records} records reached the disk`);
      this.persist(rd, written);
    } else if (this.persisted !== undefined) {
      this.env.trace.note(`${this.id} crashed after persisting, before sending ${this.persisted.messages.length} messages`);
    }
    if (loseUnsynced) this.disk.loseUnsyncedWrites();
    this.coreInstance = undefined;
    this.storage = undefined;
    this.persisted = undefined;
  }

  hasWork(): boolean {
    return this.coreInstance !== undefined && (this.persisted !== undefined || this.coreInstance.hasReady());
  }

  /** Do the next step of Ready handling. */
  work(): void {
    if (this.persisted === undefined) {
      const rd = this.core.ready();
      this.env.trace.record({ kind: 'ready', node: this.id, rd, phase: 'persist' });
      this.persist(rd, Number.POSITIVE_INFINITY);
      this.persisted = rd;
    } else {
      const rd = this.persisted;
      this.persisted = undefined;
      this.env.trace.record({ kind: 'ready', node: this.id, rd, phase: 'send+apply' });
      this.sendApplyAdvance(rd);
    }
  }

  /** Duty 1: snapshot, then entries, then hard state, to disk and to the in-memory log. */
  private persist(rd: Ready, recordLimit: number): void {
    const { checker } = this.env;
    this.checkMustSync(rd);
    let budget = recordLimit;
    if (rd.snapshot !== undefined) {
      if (budget-- <= 0) return;
      this.disk.writeSnapshot(rd.snapshot);
      this.storage?.applySnapshot(rd.snapshot);
      checker.observeSnapshotStored(this.id, this.core.status().term, this.disk);
    }
    if (rd.entries.length > 0) {
      const count = Math.min(budget, rd.entries.length);
      budget -= count;
      const entries = count === rd.entries.length ? rd.entries : rd.entries.slice(0, count);
      checker.observeWritten(this.id, this.disk.writeEntries(entries));
      if (recordLimit === Number.POSITIVE_INFINITY) this.storage?.append(entries);
      if (count < rd.entries.length) return;
    }
    if (rd.hardState !== undefined) {
      if (budget-- <= 0) return;
      const before = this.disk.hardState;
      this.disk.writeHardState(rd.hardState);
      this.storage?.setHardState(rd.hardState);
      checker.observeHardState(this.id, before, rd.hardState, this.disk);
    }
    // A torn write never reached its fsync.
    if (rd.mustSync && recordLimit === Number.POSITIVE_INFINITY) this.disk.sync();
  }

  /** Skipping fsync is only safe when nothing but the commit index changed. */
  private checkMustSync(rd: Ready): void {
    if (rd.mustSync) return;
    const hs = rd.hardState;
    const disk = this.disk.hardState;
    if (rd.entries.length > 0 || rd.snapshot !== undefined || (hs !== undefined && (hs.term !== disk.term || hs.vote !== disk.vote))) {
      throw new InvariantViolation(
        'hard state safety',
        `${this.id} got a Ready with mustSync=false that changes entries, a snapshot, the term or the vote`,
      );
    }
  }

  /** Duties 2–4: send, apply (snapshot, then committed entries), advance. */
  private sendApplyAdvance(rd: Ready): void {
    const core = this.core;
    if (rd.messages.length > 0) this.env.send(this, rd.messages);
    if (rd.snapshot !== undefined) this.applySnapshot(rd);
    for (const entry of rd.committedEntries) {
      const chain = chainNext(this.appliedChain, entry);
      const data = entry.type === EntryType.Normal ? bytesText(entry.data) : '';
      this.env.checker.observeApply(this.id, entry.index, entry.term, data, chain, this.applied);
      this.applied = entry.index;
      this.appliedChain = chain;
      this.appliedData.set(entry.index, data);
      if (entry.type === EntryType.ConfChange) {
        const cc = decodeConfChange(entry.data);
        this.confState = core.applyConfChange(cc);
        this.env.trace.note(
          `${this.id} applied conf change ${cc.type} ${cc.nodeId} at ${entry.index}: voters=${this.confState.voters.join(',')} learners=${this.confState.learners.join(',')}`,
        );
        this.env.onConfChangeApplied(this, cc, entry.index);
      }
    }
    for (const rs of rd.readStates) {
      this.env.checker.observeReadState(this.id, rs, bytesText(rs.context));
      this.readsServed.push(bytesText(rs.context));
    }
    core.advance(rd);
    this.maybeSnapshot();
  }

  private applySnapshot(rd: Ready): void {
    const snap = rd.snapshot!;
    const image = decodeImage(snap.data);
    if (image.index !== snap.metadata.index) {
      throw new InvariantViolation(
        'snapshot consistency',
        `${this.id} got a snapshot at ${snap.metadata.index} that carries a state machine image at ${image.index}`,
      );
    }
    this.env.checker.observeSnapshotApplied(this.id, image.index, snap.metadata.term, image.chain, this.applied);
    this.applied = image.index;
    this.appliedChain = image.chain;
    this.confState = snap.metadata.confState;
  }

  /** The driver's own snapshots: the state machine is written out and the log compacted. */
  private maybeSnapshot(): void {
    const policy = this.env.snapshotPolicy;
    if (policy.chance <= 0 || this.applied - this.disk.snapshotIndex() < policy.minGap) return;
    if (this.env.rng.float() >= policy.chance) return;
    this.takeSnapshot(policy.keep);
  }

  takeSnapshot(keep: number): void {
    const storage = this.storage!;
    const index = this.applied;
    if (index <= this.disk.snapshotIndex()) return;
    const logChain = this.disk.chainAt(index);
    if (logChain !== this.appliedChain) {
      throw new InvariantViolation(
        'state machine safety',
        `${this.id} applied a prefix up to ${index} that differs from its own log`,
      );
    }
    const snap = storage.createSnapshot(index, this.confState, encodeImage({ index, chain: this.appliedChain }));
    this.disk.replaceWithOwnSnapshot(snap, this.appliedChain);
    if (index - keep > 0) storage.compact(index - keep);
    this.env.trace.note(`${this.id} snapshot at ${index}, compacted to ${Math.max(0, index - keep)}`);
  }
}

function recordCount(rd: Ready): number {
  return (rd.snapshot !== undefined ? 1 : 0) + rd.entries.length + (rd.hardState !== undefined ? 1 : 0);
}
