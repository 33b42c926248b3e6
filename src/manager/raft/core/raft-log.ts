import { TsswarmError, isTsswarmError } from '../../../errors/index.js';
import type { Entry, LogStorage, Snapshot } from '../types.js';
import { UnstableLog } from './unstable-log.js';
import { entriesWithinBytes } from './entry-size.js';

/**
 * The core's view of the log: stable entries in storage, unstable ones in memory, and the
 * commit and apply positions. Indexes below firstIndex() may disappear at any time (the
 * driver compacts storage); readers that can meet them catch STORAGE_COMPACTED.
 */
export class RaftLog {
  readonly unstable: UnstableLog;
  committed: number;
  /** Highest index handed out in a Ready for applying (>= applied). */
  applying: number;
  /** Highest index the driver confirmed applied (advance). */
  applied: number;

  constructor(
    readonly storage: LogStorage,
    private readonly maxApplyingBytes: number,
  ) {
    this.unstable = new UnstableLog(storage.lastIndex());
    const firstIndex = storage.firstIndex();
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term at `index`; throws STORAGE_COMPACTED / STORAGE_UNAVAILABLE outside [firstIndex-1, lastIndex]. */
  term(index: number): number {
    const t = this.maybeTerm(index);
    if (t !== undefined) return t;
    const first = this.firstIndex();
    if (index < first) throw new TsswarmError('STORAGE_COMPACTED', { index, firstIndex: first - 1 });
    throw new TsswarmError('STORAGE_UNAVAILABLE', { index, lastIndex: this.lastIndex() });
  }

  /**
   * Term at `index`, or undefined if it is compacted or past the end. Checks the range first:
   * this is on the hot path (every appended entry), where building an error would dominate.
   */
  maybeTerm(index: number): number | undefined {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (err) {
      // The driver compacted storage under us (a range check cannot rule that out).
      if (isTsswarmError(err, 'STORAGE_COMPACTED') || isTsswarmError(err, 'STORAGE_UNAVAILABLE')) return undefined;
      throw err;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.maybeTerm(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) within maxBytes (at least one). Throws STORAGE_COMPACTED if lo is
   * below firstIndex.
   */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new TsswarmError('STORAGE_COMPACTED', { index: lo, firstIndex: first - 1 });
    const u = this.unstable;
    if (lo >= u.offset) return entriesWithinBytes(u.entries, lo - u.offset, hi - u.offset, maxBytes);
    const stable = this.storage.entries(lo, Math.min(hi, u.offset), maxBytes);
    const stableEnd = lo + stable.length;
    if (stableEnd < Math.min(hi, u.offset) || hi <= u.offset) return stable;
    // The stable part fit; top it up from the unstable part within the remaining budget.
    let bytes = 0;
    for (const e of stable) bytes += e.data.byteLength;
    for (let i = u.offset; i < hi; i++) {
      const e = u.entries[i - u.offset]!;
      bytes += e.data.byteLength;
      if (bytes > maxBytes) break;
      stable.push(e);
    }
    return stable;
  }

  /** The index of the last entry in the log that matches one of `ents` by term, or 0 if the first conflicts. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the lowest index we can still
   * read). Used for fast backtracking: no entry above it can match a log whose entry at
   * `index` has term `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i > 0; i--) {
      const t = this.maybeTerm(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /**
   * Raft §5.3 AppendEntries receiver: if the entry at prevIndex has prevTerm, append `ents`
   * (dropping those we already have, truncating at the first conflict) and advance commit.
   * Returns the index of the last new entry, or undefined if the log does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new TsswarmError('INTERNAL', {
          detail: `raft entry ${conflict} conflicts with committed entry (committed ${this.committed})`,
        });
      }
      this.append(conflict === ents[0]!.index ? ents : ents.slice(conflict - ents[0]!.index));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    if (ents[0]!.index - 1 < this.committed) {
      throw new TsswarmError('INTERNAL', {
        detail: `raft append at ${ents[0]!.index} would overwrite committed entries (committed ${this.committed})`,
      });
    }
    this.unstable.truncateAndAppend(ents);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new TsswarmError('INTERNAL', {
        detail: `raft commit ${index} is past the last index ${this.lastIndex()}`,
      });
    }
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }

  /** Committed entries may be applied only once persisted: never past the last stable index. */
  private maxAppliable(): number {
    return Math.min(this.committed, this.unstable.offset - 1);
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== undefined) return false;
    return this.applying < this.maxAppliable();
  }

  /** The next batch to apply (within maxApplyingBytes), marked as handed out. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    const hi = this.maxAppliable() + 1;
    const ents = this.slice(lo, hi, this.maxApplyingBytes);
    if (ents.length > 0) this.applying = ents[ents.length - 1]!.index;
    return ents;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }
}
