import { TsswarmError } from '../../../errors/index.js';
import type { Entry, Snapshot } from '../types.js';

/**
 * Entries (and at most one received snapshot) that the core has but the driver has not yet
 * persisted. `offset` is the index of entries[0]; everything below it is in storage, so
 * `offset - 1` is always the last stable index.
 *
 * Entries handed out in a Ready but not yet acknowledged by advance() are "in progress": they
 * are not handed out again, but stay here (readable) until stableTo() confirms them.
 */
export class UnstableLog {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;
  offsetInProgress: number;
  snapshotInProgress = false;

  constructor(lastStableIndex: number) {
    this.offset = lastStableIndex + 1;
    this.offsetInProgress = this.offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** The term at `index` if this log knows it; undefined means "ask storage". */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const meta = this.snapshot?.metadata;
      return meta !== undefined && meta.index === index ? meta.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /** Entries not yet handed out in a Ready (a copy: later appends must not change a Ready). */
  nextEntries(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  hasNextSnapshot(): boolean {
    return this.snapshot !== undefined && !this.snapshotInProgress;
  }

  /** Everything current has been handed out in a Ready. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /** The driver persisted entries up to `index` (of `term`). Ignored if that entry was since replaced. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    const drop = index + 1 - this.offset;
    this.entries = drop === this.entries.length ? [] : this.entries.slice(drop);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Append, replacing any entries at or after ents[0].index. */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const from = ents[0]!.index;
    const end = this.offset + this.entries.length;
    if (from < end) {
      if (from <= this.offset) {
        // Replaces everything unstable and possibly stable entries too: storage's suffix from
        // `from` is replaced when these are persisted.
        this.offset = from;
        this.entries = [];
      } else {
        this.entries.length = from - this.offset;
      }
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    } else if (from > end) {
      throw new TsswarmError('INTERNAL', { detail: `raft unstable log: append at ${from} leaves a gap after ${end - 1}` });
    }
    for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]!);
  }
}
