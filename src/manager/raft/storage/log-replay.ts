/**
 * Rebuilds the log from WAL records in file order. Pure: no I/O, so its rules are tested on
 * their own.
 *
 * Rules:
 * - An entry at index <= the last held index replaces that suffix (a new leader overwrote
 *   uncommitted entries). An entry past last+1 is a gap: STORAGE_CORRUPT.
 * - A snapshot marker (S, T) keeps the log when it agrees with the snapshot (the entry at S
 *   has term T, or the log starts right after S), and otherwise drops it: a snapshot received
 *   from a leader replaces a log that conflicts with it, as the in-memory log does.
 * - finish() applies the snapshot actually loaded from disk the same way, keeps only entries
 *   after it, and checks that they start right after it.
 */
import { TsswarmError } from '../../../errors/index.js';
import type { Entry, HardState } from '../types.js';

export interface RecordPlace {
  readonly file: string;
  readonly offset: number;
}

export interface ReplayResult {
  readonly hardState: HardState;
  /** Entries after the snapshot index, contiguous. */
  readonly entries: Entry[];
  /** The highest index the writer must treat as written (for naming the next segment). */
  readonly lastIndex: number;
}

export const ZERO_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export class LogReplay {
  private hardState: HardState = ZERO_HARD_STATE;
  private entries: Entry[] = [];
  /** After a marker dropped the log, the next entry must be exactly this index. */
  private nextExpected: number | undefined;
  private highestMarker = 0;
  private lastWhere: RecordPlace = { file: '', offset: 0 };

  entry(e: Entry, where: RecordPlace): void {
    this.lastWhere = where;
    const first = this.entries[0];
    if (first === undefined) {
      if (this.nextExpected !== undefined && e.index > this.nextExpected) {
        throw gap(where, `entry ${e.index} follows a snapshot at ${this.nextExpected - 1}`);
      }
      this.entries.push(e);
      this.nextExpected = undefined;
      return;
    }
    const last = first.index + this.entries.length - 1;
    if (e.index === last + 1) {
      this.entries.push(e);
    } else if (e.index > last + 1) {
      throw gap(where, `entry ${e.index} follows entry ${last}`);
    } else if (e.index >= first.index) {
      this.entries.length = e.index - first.index;
      this.entries.push(e);
    } else {
      this.entries = [e];
    }
  }

  hardStateRecord(hs: HardState, where: RecordPlace): void {
    this.lastWhere = where;
    this.hardState = hs;
  }

  marker(index: number, term: number, where: RecordPlace): void {
    this.lastWhere = where;
    this.highestMarker = Math.max(this.highestMarker, index);
    this.applySnapshot(index, term);
  }

  private applySnapshot(index: number, term: number): void {
    const first = this.entries[0];
    if (first === undefined) {
      this.nextExpected = Math.max(this.nextExpected ?? 0, index + 1);
      return;
    }
    if (first.index > index) return; // the log starts after the snapshot; finish() checks the join
    const atSnapshot = this.entries[index - first.index];
    if (atSnapshot !== undefined && atSnapshot.term === term) return;
    this.entries = [];
    this.nextExpected = index + 1;
  }

  /** snapshot: the metadata of the snapshot loaded from disk, if any. */
  finish(snapshot: { index: number; term: number } | undefined): ReplayResult {
    const snapIndex = snapshot?.index ?? 0;
    const lastWritten = this.lastEntryIndex();
    if (snapshot !== undefined) this.applySnapshot(snapshot.index, snapshot.term);
    const first = this.entries[0];
    let entries: Entry[] = [];
    if (first !== undefined) {
      const skip = Math.max(0, snapIndex + 1 - first.index);
      entries = this.entries.slice(skip);
      const head = entries[0];
      if (head !== undefined && head.index !== snapIndex + 1) {
        throw gap(this.lastWhere, `the log starts at ${head.index} but the snapshot ends at ${snapIndex}`);
      }
    } else if (this.nextExpected !== undefined && this.nextExpected > snapIndex + 1) {
      // A marker replaced the log with a snapshot that is not on disk (missing or corrupt).
      throw gap(this.lastWhere, `the WAL refers to a snapshot at ${this.nextExpected - 1}, the newest valid one is at ${snapIndex}`);
    }
    const lastIndex = Math.max(lastWritten, snapIndex, this.highestMarker);
    const top = entries.length > 0 ? entries[entries.length - 1]!.index : snapIndex;
    if (this.hardState.commit > top) {
      throw gap(this.lastWhere, `hard state commit ${this.hardState.commit} is past the last entry ${top}`);
    }
    return { hardState: this.hardState, entries, lastIndex };
  }

  private lastEntryIndex(): number {
    const first = this.entries[0];
    return first === undefined ? 0 : first.index + this.entries.length - 1;
  }
}

function gap(where: RecordPlace, reason: string): TsswarmError {
  return new TsswarmError('STORAGE_CORRUPT', { file: where.file, offset: where.offset, reason });
}
