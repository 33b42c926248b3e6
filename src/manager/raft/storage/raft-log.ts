/**
 * The durable Raft log: a WAL in <dir>/wal and snapshots in <dir>/snap.
 *
 * The driver's duties (see Ready in ../types.ts), and what this guarantees for each:
 * - per Ready: `await save(hardState, entries, mustSync)` before sending messages. With
 *   sync=true the promise resolves only after the records are fdatasync'ed.
 * - a Ready with a snapshot: `await saveSnapshot(snapshot)` before save(): the snapshot file
 *   is durable, then a marker record in the WAL.
 * - after taking its own snapshot: `await saveSnapshot(snap)` then `await releaseTo(index)`.
 * Calls are executed strictly in call order, so the driver may overlap them freely.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TsswarmError } from '../../../errors/index.js';
import { componentLogger, type Logger } from '../../../log/logger.js';
import type { Entry, HardState, Snapshot } from '../types.js';
import { parseRaftStorageConfig } from './config.js';
import { fsyncDir, io, removeTempFiles } from './fs-util.js';
import { isU64, encodeSave, MARKER_RECORD_BYTES, putMarkerRecord } from './record-codec.js';
import { recoverWal } from './recover-wal.js';
import { SnapshotStore } from './snapshot-store.js';
import { WalWriter, type WalStats } from './wal-writer.js';

export interface RecoveredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | undefined;
  /** All entries after the snapshot index, in order, overwrites resolved. */
  readonly entries: Entry[];
  /** True when a torn write at the end of the WAL was cut off (logged as a warning). */
  readonly tornTailTruncated: boolean;
}

export interface RaftLogStats extends WalStats {
  /** Index of the newest snapshot saved (0 if none). */
  readonly snapshotIndex: number;
}

export interface RaftLog {
  /**
   * Appends entries (replacing any stored suffix from entries[0].index on) and then the hard
   * state. entries must be contiguous and must not leave a gap after the stored log.
   * Resolves after the bytes are written, and fdatasync'ed when sync is true. Rejects with
   * STORAGE_IO (and every later call too) if the disk fails.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], sync: boolean): Promise<void>;
  /**
   * Makes the snapshot durable (atomic file) and records it in the WAL. Rejects with
   * STORAGE_SNAPSHOT_OUT_OF_DATE for an index below the newest saved one; the same index is a no-op.
   */
  saveSnapshot(snap: Snapshot): Promise<void>;
  /** Deletes WAL segments whose entries all lie at or below min(index, newest snapshot index). */
  releaseTo(index: number): Promise<void>;
  /** Waits for queued calls, fdatasyncs, closes. Later calls reject with STORAGE_CLOSED. */
  close(): Promise<void>;
  stats(): RaftLogStats;
}

function invalid(detail: string): TsswarmError {
  return new TsswarmError('INTERNAL', { detail: `raft storage: ${detail}` });
}

function checkSave(hs: HardState | undefined, entries: readonly Entry[], lastIndex: number, snapshotIndex: number): void {
  if (hs !== undefined && (!isU64(hs.term) || !isU64(hs.commit))) throw invalid('hard state term or commit is not a u64');
  let prev: number | undefined;
  for (const e of entries) {
    if (!isU64(e.term) || !isU64(e.index) || e.index === 0) throw invalid(`entry term ${e.term} or index ${e.index} is invalid`);
    if (prev !== undefined && e.index !== prev + 1) throw invalid(`entries are not contiguous at ${prev} -> ${e.index}`);
    prev = e.index;
  }
  const first = entries[0];
  if (first !== undefined && first.index > lastIndex + 1) {
    throw invalid(`entry ${first.index} would leave a gap after the last index ${lastIndex}`);
  }
  if (first !== undefined && first.index <= snapshotIndex) {
    // It would truncate entries after the snapshot on replay; Raft never rewrites committed entries.
    throw invalid(`entry ${first.index} is at or below the snapshot index ${snapshotIndex}`);
  }
}

class DiskRaftLog implements RaftLog {
  /** The last index and snapshot index once everything queued is done; checked at call time. */
  private queuedLastIndex: number;
  private queuedSnapshotIndex: number;

  constructor(
    private readonly writer: WalWriter,
    private readonly snapshots: SnapshotStore,
    private snapshotIndex: number,
    lastIndex: number,
  ) {
    this.queuedLastIndex = lastIndex;
    this.queuedSnapshotIndex = snapshotIndex;
  }

  save(hardState: HardState | undefined, entries: readonly Entry[], sync: boolean): Promise<void> {
    if (hardState === undefined && entries.length === 0) return this.writer.run(async () => undefined);
    try {
      checkSave(hardState, entries, this.queuedLastIndex, this.queuedSnapshotIndex);
    } catch (err) {
      return Promise.reject(err);
    }
    const last = entries[entries.length - 1];
    if (last !== undefined) this.queuedLastIndex = last.index;
    return this.writer.append(encodeSave(hardState, entries), sync, last?.index, hardState);
  }

  saveSnapshot(snap: Snapshot): Promise<void> {
    const { index, term } = snap.metadata;
    if (!isU64(index) || !isU64(term)) return Promise.reject(invalid('snapshot index or term is not a u64'));
    this.queuedLastIndex = Math.max(this.queuedLastIndex, index);
    this.queuedSnapshotIndex = Math.max(this.queuedSnapshotIndex, index);
    return this.writer.run(async () => {
      if (index < this.snapshotIndex) {
        throw new TsswarmError('STORAGE_SNAPSHOT_OUT_OF_DATE', { index, current: this.snapshotIndex });
      }
      if (index === this.snapshotIndex && index > 0) return;
      await this.snapshots.save(snap);
      this.snapshotIndex = index;
      const marker = Buffer.allocUnsafe(MARKER_RECORD_BYTES);
      putMarkerRecord(marker, 0, index, term);
      await this.writer.writeNow([{ bytes: marker, sync: true, lastIndex: undefined, hardState: undefined }]);
      this.writer.noteSnapshot(index);
    });
  }

  releaseTo(index: number): Promise<void> {
    return this.writer.run(async () => {
      await this.writer.releaseNow(Math.min(index, this.snapshotIndex));
    });
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  stats(): RaftLogStats {
    return { ...this.writer.stats(), snapshotIndex: this.snapshotIndex };
  }
}

/** mkdir -p, then fsync the parent of each directory it created so the names are durable. */
async function ensureDir(path: string): Promise<void> {
  const created = await io(path, () => mkdir(path, { recursive: true }));
  if (created === undefined) return;
  for (let p = path; ; p = dirname(p)) {
    await fsyncDir(dirname(p));
    if (p === created || dirname(p) === p) break;
  }
}

/**
 * Opens (or creates) the log in dir and returns what it holds. Throws CONFIG_INVALID for a
 * bad config, STORAGE_CORRUPT for damage other than a torn tail, STORAGE_IO for disk errors.
 * There is no lock here: the caller must ensure only one process opens a dir at a time.
 */
export async function openRaftLog(
  dir: string,
  config: unknown,
  logger: Logger,
): Promise<{ log: RaftLog; recovered: RecoveredState }> {
  const cfg = parseRaftStorageConfig(config);
  const log = componentLogger(logger, 'raft-storage', { dir });
  const walDir = join(dir, 'wal');
  const snapDir = join(dir, 'snap');
  await ensureDir(walDir);
  await ensureDir(snapDir);
  for (const d of [walDir, snapDir]) {
    const removed = await removeTempFiles(d);
    if (removed.length > 0) log.warn({ dir: d, files: removed }, 'removed temp files left by an interrupted write');
  }
  const snapshots = new SnapshotStore(snapDir, log);
  const snapshot = await snapshots.loadNewest();
  const wal = await recoverWal(walDir, snapshot, await snapshots.hasAny(), log);
  const writer = new WalWriter(walDir, wal, cfg, log);
  const snapshotIndex = snapshot?.metadata.index ?? 0;
  log.info(
    { snapshotIndex, entries: wal.entries.length, lastIndex: wal.lastIndex, segments: wal.segments.length },
    'raft log opened',
  );
  return {
    log: new DiskRaftLog(writer, snapshots, snapshotIndex, wal.lastIndex),
    recovered: { hardState: wal.hardState, snapshot, entries: wal.entries, tornTailTruncated: wal.tornTailTruncated },
  };
}
