/**
 * The WAL's single writer: a queue that runs writes and maintenance tasks strictly in order.
 *
 * Group commit: while one write+fdatasync is in flight, later saves queue up; the next round
 * concatenates all queued writes (up to maxBatchBytes) into one write(2) and, if any of them
 * asked for sync, one fdatasync. No save resolves before its bytes were written, and none with
 * sync=true before they were fdatasync'ed.
 *
 * Failure: any I/O error stops the writer for good (like etcd, after a failed fsync the page
 * cache can no longer be trusted): the failing and all later calls reject with that error.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TsswarmError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { HardState } from '../types.js';
import type { RaftStorageConfig } from './config.js';
import { fsyncDir, io, ioError, writeAll, writeFileAtomic } from './fs-util.js';
import { encodeSave } from './record-codec.js';
import { encodeSegmentHeader, segmentFileName, type SegmentName } from './segment-file.js';

export interface WalStats {
  /** Record bytes appended to segments (headers of new segments not counted). */
  readonly bytesWritten: number;
  /** write(2) rounds: fewer than saves when group commit coalesced them. */
  readonly writes: number;
  /** fdatasync calls on segments, including the one that closes a segment at a cut. */
  readonly fsyncs: number;
  /** Calls to append (one per save or snapshot marker). */
  readonly appends: number;
  readonly segments: number;
}

interface WriteOp {
  readonly kind: 'write';
  readonly bytes: Buffer;
  readonly sync: boolean;
  /** The log's last index once this write is done, if it carries entries. */
  readonly lastIndex: number | undefined;
  readonly hardState: HardState | undefined;
  resolve(): void;
  reject(err: unknown): void;
}

interface TaskOp {
  readonly kind: 'task';
  run(): Promise<void>;
  reject(err: unknown): void;
}

export interface WalWriterState {
  readonly segments: SegmentName[];
  readonly fh: FileHandle;
  readonly size: number;
  readonly lastIndex: number;
  readonly hardState: HardState;
}

export class WalWriter {
  private readonly queue: Array<WriteOp | TaskOp> = [];
  private pumping = false;
  private failure: unknown;
  private closed = false;
  private closing: Promise<void> | undefined;
  private unsynced = false;
  private readonly segments: SegmentName[];
  private fh: FileHandle;
  private size: number;
  private lastIndex: number;
  private hardState: HardState;
  private counters = { bytesWritten: 0, writes: 0, fsyncs: 0, appends: 0 };

  constructor(
    private readonly walDir: string,
    state: WalWriterState,
    private readonly config: RaftStorageConfig,
    private readonly logger: Logger,
  ) {
    this.segments = [...state.segments];
    this.fh = state.fh;
    this.size = state.size;
    this.lastIndex = state.lastIndex;
    this.hardState = state.hardState;
  }

  stats(): WalStats {
    return { ...this.counters, segments: this.segments.length };
  }

  private refuse(): unknown {
    if (this.failure !== undefined) return this.failure;
    if (this.closed) return new TsswarmError('STORAGE_CLOSED', { dir: this.walDir });
    return undefined;
  }

  /** Queues record bytes; resolves once written (and fdatasync'ed if sync). */
  append(bytes: Buffer, sync: boolean, lastIndex: number | undefined, hardState: HardState | undefined): Promise<void> {
    const refused = this.refuse();
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'write', bytes, sync, lastIndex, hardState, resolve, reject });
      this.kick();
    });
  }

  /** Runs fn alone, after everything queued before it. fn may call the *Now methods below. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const refused = this.refuse();
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'task', run: async () => resolve(await fn()), reject });
      this.kick();
    });
  }

  /** Runs what is queued, fdatasyncs, closes the segment; later calls reject STORAGE_CLOSED. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      const done = this.run(async () => {
        if (this.unsynced) await this.datasync();
        await io(this.currentPath(), () => this.fh.close());
      });
      this.closed = true;
      this.closing = done.catch((err: unknown) => {
        if (err !== this.failure) throw err;
        // The writer already failed; its file handle still needs closing.
        return this.fh.close().catch(() => undefined);
      });
    }
    return this.closing;
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'task') {
        this.queue.shift();
        try {
          await head.run();
        } catch (err) {
          if (err instanceof TsswarmError && err.code === 'STORAGE_IO') this.fail(err);
          head.reject(err);
        }
        continue;
      }
      const batch: WriteOp[] = [];
      let bytes = 0;
      while (this.queue[0]?.kind === 'write') {
        const next = this.queue[0];
        if (batch.length > 0 && bytes + next.bytes.length > this.config.maxBatchBytes) break;
        this.queue.shift();
        batch.push(next);
        bytes += next.bytes.length;
      }
      try {
        await this.writeNow(batch);
        for (const op of batch) op.resolve();
      } catch (err) {
        const e = ioError(this.currentPath(), err);
        this.fail(e);
        for (const op of batch) op.reject(e);
      }
    }
    this.pumping = false;
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.logger.error({ err }, 'raft WAL write failed; the log accepts no more writes');
    for (const op of this.queue.splice(0)) op.reject(err);
  }

  private currentPath(): string {
    return join(this.walDir, this.segments[this.segments.length - 1]!.file);
  }

  private async datasync(): Promise<void> {
    await io(this.currentPath(), () => this.fh.datasync());
    this.counters.fsyncs++;
    this.unsynced = false;
  }

  /** Writes ops as one write(2), cutting a new segment first if the current one is full. */
  async writeNow(ops: readonly Pick<WriteOp, 'bytes' | 'sync' | 'lastIndex' | 'hardState'>[]): Promise<void> {
    if (this.size >= this.config.segmentBytes) await this.cut();
    const buf = ops.length === 1 ? ops[0]!.bytes : Buffer.concat(ops.map((op) => op.bytes));
    await io(this.currentPath(), () => writeAll(this.fh, buf, this.size));
    this.size += buf.length;
    this.unsynced = true;
    this.counters.bytesWritten += buf.length;
    this.counters.writes++;
    this.counters.appends += ops.length;
    if (ops.some((op) => op.sync)) await this.datasync();
    for (const op of ops) {
      if (op.lastIndex !== undefined) this.lastIndex = op.lastIndex;
      if (op.hardState !== undefined) this.hardState = op.hardState;
    }
  }

  /** A snapshot past the log's end moves it: the next entry follows the snapshot. */
  noteSnapshot(index: number): void {
    this.lastIndex = Math.max(this.lastIndex, index);
  }

  /**
   * Starts a new segment. The old one is fdatasync'ed first, so only the last segment can
   * ever end in a torn write. The new one is created whole with the current hard state, so
   * the hard state survives when older segments are released.
   */
  private async cut(): Promise<void> {
    if (this.unsynced) await this.datasync();
    await io(this.currentPath(), () => this.fh.close());
    const seq = this.segments[this.segments.length - 1]!.seq + 1;
    const firstIndex = this.lastIndex + 1;
    const file = segmentFileName(seq, firstIndex);
    const content = Buffer.concat([encodeSegmentHeader(seq, firstIndex), encodeSave(this.hardState, [])]);
    await writeFileAtomic(this.walDir, file, content);
    this.fh = await io(join(this.walDir, file), () => open(join(this.walDir, file), 'r+'));
    this.segments.push({ seq, firstIndex, file });
    this.size = content.length;
    this.logger.debug({ file, firstIndex }, 'cut new WAL segment');
  }

  /**
   * Deletes whole segments, oldest first, whose entries all lie at or below index: segment i
   * holds no live entry above the next segment's firstIndex-1. The current segment is kept.
   */
  async releaseNow(index: number): Promise<number> {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstIndex - 1 <= index) {
      const path = join(this.walDir, this.segments[0]!.file);
      await io(path, () => unlink(path));
      // One directory fsync per file keeps deletions in order, so a crash never leaves a hole.
      await fsyncDir(this.walDir);
      this.segments.shift();
      removed++;
    }
    return removed;
  }
}
