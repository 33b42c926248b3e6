import { TsswarmError } from '../../../errors/index.js';
import { EntryType, NO_NODE } from '../types.js';
import type { ConfState, Entry, HardState, LogStorage, Snapshot } from '../types.js';
import { entriesWithinBytes } from './entry-size.js';

const EMPTY_DATA = new Uint8Array(0);
const EMPTY_CONF: ConfState = { voters: [], learners: [] };

/**
 * The in-memory log the core reads through, kept in front of the disk by the driver (and
 * used on its own by simulators). Not thread-safe; the driver mutates it between Readies.
 *
 * `ents[0]` is a placeholder carrying the snapshot's index and term, so the term of the entry
 * just before the first available one is always known (the leader needs it as prevLogTerm).
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: NO_NODE, commit: 0 };
  private snap: Snapshot;
  private ents: Entry[] = [placeholder(0, 0)];

  /**
   * `initialConfState` is the configuration before index 1, for tests and simulations. A real
   * cluster starts from bootstrapSnapshot() instead, so that a joining member learns the first
   * configuration from the snapshot it is sent.
   */
  constructor(initialConfState: ConfState = EMPTY_CONF) {
    this.snap = { metadata: { index: 0, term: 0, confState: initialConfState }, data: EMPTY_DATA };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw compacted(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw unavailable(hi - 1, this.lastIndex());
    if (lo >= hi) return [];
    return entriesWithinBytes(this.ents, lo - offset, hi - offset, maxBytes);
  }

  term(index: number): number {
    const offset = this.ents[0]!.index;
    if (index < offset) throw compacted(index, offset + 1);
    const entry = this.ents[index - offset];
    if (entry === undefined) throw unavailable(index, this.lastIndex());
    return entry.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Record the persisted hard state (what initialState() reports after a restart). */
  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /**
   * Append persisted entries. Entries at or below the snapshot are skipped; any stored entry
   * at or after entries[0].index is replaced (a new leader overwrote a conflicting suffix).
   * Throws INTERNAL on a gap, which only a driver bug can cause.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[entries.length - 1]!.index;
    if (lastNew < first) return;
    const skip = Math.max(0, first - entries[0]!.index);
    const from = entries[skip]!.index;
    if (from > this.lastIndex() + 1) {
      throw new TsswarmError('INTERNAL', {
        detail: `raft storage append at ${from} leaves a gap after last index ${this.lastIndex()}`,
      });
    }
    const offset = this.ents[0]!.index;
    this.ents.length = from - offset;
    // One push per entry: a spread of a large batch could overflow the call stack.
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
  }

  /**
   * Replace the whole log with a snapshot received from the leader (or loaded at start).
   * Throws STORAGE_SNAPSHOT_OUT_OF_DATE if it is not newer than the current one.
   */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.snap.metadata.index) {
      throw new TsswarmError('STORAGE_SNAPSHOT_OUT_OF_DATE', { index, current: this.snap.metadata.index });
    }
    this.snap = snapshot;
    this.ents = [placeholder(index, term)];
  }

  /**
   * Record a snapshot of the state machine as of `index` (<= the applied index), which the
   * leader then sends to followers that need compacted entries. Does not compact.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new TsswarmError('STORAGE_SNAPSHOT_OUT_OF_DATE', { index, current: this.snap.metadata.index });
    }
    if (index > this.lastIndex()) throw unavailable(index, this.lastIndex());
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /**
   * Drop the entries up to and including `index`. It must not pass the latest snapshot, or a
   * follower that needs those entries could be sent a snapshot that does not cover them.
   * Compacting at or below what is already compacted does nothing.
   */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    if (index > this.snap.metadata.index) {
      throw new TsswarmError('INTERNAL', {
        detail: `raft storage compaction to ${index} passes the latest snapshot at ${this.snap.metadata.index}`,
      });
    }
    const kept = this.ents.slice(index - offset);
    kept[0] = placeholder(index, kept[0]!.term);
    this.ents = kept;
  }
}

/** The snapshot a brand-new cluster starts from: `voters` (usually just the first manager) at index 1. */
export function bootstrapSnapshot(voters: readonly string[], data: Uint8Array): Snapshot {
  return { metadata: { index: 1, term: 1, confState: { voters: [...voters], learners: [] } }, data };
}

function placeholder(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_DATA };
}

function compacted(index: number, firstIndex: number): TsswarmError {
  return new TsswarmError('STORAGE_COMPACTED', { index, firstIndex: firstIndex - 1 });
}

function unavailable(index: number, lastIndex: number): TsswarmError {
  return new TsswarmError('STORAGE_UNAVAILABLE', { index, lastIndex });
}
