import { randomUUID } from 'node:crypto';
import { TsswarmError, errorMessage } from '../../errors/index.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import type { StateMachine } from '../raft/node/index.js';
import { actionsOf, decodeBatch, encodeBatch, type StoreAction } from './codec/batch-codec.js';
import { decodeStoreSnapshot, encodeStoreSnapshot } from './codec/snapshot-codec.js';
import { objectKinds } from '../../objects/index.js';
import type { Proposer } from './proposer.js';
import { splitActions } from './split-actions.js';
import { applyBatch, type ApplyOutcome } from './state/apply-batch.js';
import { Overlay } from './state/overlay.js';
import type { ReadTx } from './state/read-tx.js';
import { StoreState } from './state/store-state.js';
import { parseStoreConfig, type StoreConfig, type StoreConfigInput } from './store-config.js';
import { diffStates } from './watch/diff-states.js';
import type { WatchFilter } from './watch/event.js';
import { WatchHub } from './watch/watch-hub.js';
import type { Watcher } from './watch/watcher.js';
import { OverlayWriteTx, type WriteTx } from './write-tx.js';

export interface MemoryStoreOptions {
  readonly logger?: Logger;
  readonly config?: StoreConfigInput;
  /** Unix ms stamped into created/updated times by the PROPOSER; Date.now by default. */
  readonly wallClock?: () => number;
  /** Unique IDs that match an applied entry to the local caller waiting on it. */
  readonly newProposalId?: () => string;
}

/**
 * The managers' object store: in-memory tables replicated as the Raft state machine.
 *
 * Writes: update(fn) runs fn synchronously against the local state, turns its changes into
 * ONE protobuf StoreActionBatch, proposes it (forwarded to the leader from a follower) and
 * resolves once the entry is applied here, or rejects with the error apply() recorded (the
 * batch was then a no-op everywhere) or with the Raft driver's RAFT_* error.
 * Reads: view(fn) reads the local state (possibly stale on a follower); viewLinearizable(fn)
 * first waits for a Raft read index. watch()/viewAndWatch() stream changes after apply.
 *
 * Concurrency: all on one event loop. apply/snapshot/restore are called by the Raft driver
 * one at a time; view and the synchronous part of update never interleave with them.
 */
export class MemoryStore implements StateMachine {
  private state = new StoreState();
  private readonly cfg: StoreConfig;
  private readonly log: Logger;
  private readonly hub: WatchHub;
  private readonly wallClock: () => number;
  private readonly newProposalId: () => string;
  private proposer: Proposer | undefined;
  /** Proposals of this member awaiting their apply outcome, by proposal ID. */
  private readonly outcomes = new Map<string, ApplyOutcome | undefined>();

  constructor(options: MemoryStoreOptions = {}) {
    this.cfg = parseStoreConfig(options.config);
    this.log = options.logger === undefined ? silentLogger() : componentLogger(options.logger, 'store');
    this.hub = new WatchHub(this.cfg.watchQueueLimit);
    this.wallClock = options.wallClock ?? Date.now;
    this.newProposalId = options.newProposalId ?? randomUUID;
  }

  /** Connects the store to what replicates its writes (the started RaftNode). */
  attach(proposer: Proposer): void {
    this.proposer = proposer;
  }

  /** The Raft index of the last entry (or snapshot) applied. */
  get appliedIndex(): number {
    return this.state.appliedIndex;
  }

  // ---- StateMachine ------------------------------------------------------------------------

  apply(index: number, data: Uint8Array): void {
    let batch;
    try {
      batch = decodeBatch(data);
    } catch (err) {
      // Not a store entry: skip it on every replica alike rather than stop the node.
      this.log.error({ index, err: errorMessage(err) }, 'undecodable store entry skipped');
      this.state.appliedIndex = index;
      return;
    }
    const outcome = applyBatch(this.state, index, batch);
    this.state.appliedIndex = index;
    if (this.outcomes.has(batch.proposalId)) this.outcomes.set(batch.proposalId, outcome);
    if (outcome.ok) this.hub.publish(outcome.events);
    else this.log.debug({ index, code: outcome.code, details: outcome.details }, 'store batch refused at apply');
  }

  snapshot(): Uint8Array {
    const s = this.state;
    return encodeStoreSnapshot({
      appliedIndex: s.appliedIndex,
      tables: { node: s.list('node'), cluster: s.list('cluster'), service: s.list('service'), task: s.list('task'), network: s.list('network') },
    });
  }

  /**
   * Replaces the whole state. Watchers are not cut off: they get the difference between the
   * old and the new state as events (index = the snapshot's), so they stay consistent.
   */
  restore(data: Uint8Array): void {
    const next = new StoreState();
    // No bytes at all = a snapshot taken before the store had anything to say: empty.
    const snap = data.length === 0 ? { appliedIndex: 0, tables: undefined } : decodeStoreSnapshot(data);
    if (snap.tables !== undefined) for (const kind of objectKinds) for (const o of snap.tables[kind]) next.put(kind, o);
    next.appliedIndex = snap.appliedIndex;
    const events = diffStates(this.state, next, snap.appliedIndex);
    this.state = next;
    this.hub.publish(events);
  }

  // ---- reads -------------------------------------------------------------------------------

  /** Runs fn on the local state. fn must not keep the ReadTx past its return. */
  view<T>(fn: (tx: ReadTx) => T): T {
    return fn(this.state);
  }

  /** Like view, after everything committed when called has been applied here. RAFT_* errors. */
  async viewLinearizable<T>(fn: (tx: ReadTx) => T): Promise<T> {
    await this.requireProposer().readIndex(this.timeoutOption());
    return this.view(fn);
  }

  /** Events applied from now on that pass `filter`. */
  watch(filter?: WatchFilter, options: { queueLimit?: number } = {}): Watcher {
    return this.hub.add(filter, options.queueLimit);
  }

  /** fn's view of the state and a watcher of every change after it: no gap, no duplicate. */
  viewAndWatch<T>(fn: (tx: ReadTx) => T, filter?: WatchFilter, options: { queueLimit?: number } = {}): { result: T; watcher: Watcher } {
    // Synchronous: no apply can run between the view and the subscription.
    const result = this.view(fn);
    return { result, watcher: this.watch(filter, options) };
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * One atomic transaction: fn's changes commit together or not at all. fn must be
   * synchronous. Resolves with fn's result once applied here. Rejects with fn's own throw,
   * a STORE_* code (checked here, then again at apply), STORE_TX_TOO_LARGE, a RAFT_* code
   * (RAFT_NOT_LEADER with the leader's address, RAFT_NO_QUORUM, RAFT_TIMEOUT...; after those
   * the write may still commit, so retries must be idempotent), or STORE_OUTCOME_UNKNOWN.
   */
  async update<T>(fn: (tx: WriteTx) => T): Promise<T> {
    const proposer = this.requireProposer();
    const overlay = new Overlay(this.state);
    const value = fn(new OverlayWriteTx(overlay));
    if (value instanceof Promise) throw new TsswarmError('INTERNAL', { detail: 'a store transaction function must be synchronous' });
    const actions = actionsOf(overlay.changes());
    if (actions.length > 0) await this.proposeBatch(proposer, actions);
    return value;
  }

  /**
   * Many independent changes, split into entries of at most maxActionsPerEntry changes and
   * maxEntryBytes each, committed one after the other. Each entry is atomic, the whole is not:
   * on an error the entries before it stay committed (`details.committedEntries` says how many).
   */
  async batch(fn: (tx: WriteTx) => void): Promise<{ entries: number }> {
    const proposer = this.requireProposer();
    const overlay = new Overlay(this.state);
    fn(new OverlayWriteTx(overlay));
    const chunks = splitActions(actionsOf(overlay.changes()), this.cfg.maxActionsPerEntry, this.cfg.maxEntryBytes);
    for (let i = 0; i < chunks.length; i++) {
      try {
        await this.proposeBatch(proposer, chunks[i]!);
      } catch (err) {
        if (err instanceof TsswarmError) err.details.committedEntries = i;
        throw err;
      }
    }
    return { entries: chunks.length };
  }

  /** Ends every watcher; writes fail from now on. */
  close(): void {
    this.proposer = undefined;
    this.hub.closeAll();
  }

  private async proposeBatch(proposer: Proposer, actions: readonly StoreAction[]): Promise<void> {
    const proposalId = this.newProposalId();
    const data = encodeBatch({ proposalId, actions, proposedAtMs: this.wallClock() });
    if (data.length > this.cfg.maxEntryBytes) throw new TsswarmError('STORE_TX_TOO_LARGE', { bytes: data.length, limit: this.cfg.maxEntryBytes });
    this.outcomes.set(proposalId, undefined);
    let outcome: ApplyOutcome | undefined;
    try {
      await proposer.propose(data, { forward: true, ...this.timeoutOption() });
    } finally {
      outcome = this.outcomes.get(proposalId);
      this.outcomes.delete(proposalId);
    }
    // Committed, yet never passed through apply() here: this member caught up from a snapshot
    // that already held the entry (a follower's forwarded write), so its result is lost.
    if (outcome === undefined) throw new TsswarmError('STORE_OUTCOME_UNKNOWN', { proposalId });
    if (!outcome.ok) throw new TsswarmError(outcome.code, outcome.details);
  }

  private requireProposer(): Proposer {
    if (this.proposer === undefined) throw new TsswarmError('STORE_NOT_WRITABLE', { reason: 'no Raft node is attached' });
    return this.proposer;
  }

  private timeoutOption(): { timeoutMs?: number } {
    return this.cfg.writeTimeoutMs === undefined ? {} : { timeoutMs: this.cfg.writeTimeoutMs };
  }
}
