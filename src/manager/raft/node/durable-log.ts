import type { Entry, HardState, Snapshot } from '../types.js';

/**
 * The part of the storage package's RaftLog that the driver uses (see src/manager/raft/storage).
 * Declared here so the driver states exactly what it relies on.
 */
export interface DurableLog {
  /** Appends entries and the hard state; with sync, resolves only once fdatasync'ed. */
  save(hardState: HardState | undefined, entries: readonly Entry[], sync: boolean): Promise<void>;
  /** Durably records a snapshot (before the entries it covers are released). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Lets the log drop what it holds up to `index` (covered by a saved snapshot). */
  releaseTo(index: number): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface RecoveredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly tornTailTruncated: boolean;
}

export interface OpenedLog {
  readonly log: DurableLog;
  readonly recovered: RecoveredState;
}
