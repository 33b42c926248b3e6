/**
 * Opening the WAL: list and verify segments, replay every record, truncate a torn tail.
 */
import { open, readFile, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TsswarmError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { Snapshot } from '../types.js';
import { TMP_SUFFIX, io, writeFileAtomic } from './fs-util.js';
import { LogReplay, ZERO_HARD_STATE, type ReplayResult } from './log-replay.js';
import { RecordType, decodeEntry, decodeHardState, decodeMarker, encodeSave } from './record-codec.js';
import {
  checkSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  scanSegment,
  segmentFileName,
  type SegmentName,
} from './segment-file.js';

export interface RecoveredWal extends ReplayResult {
  readonly segments: SegmentName[];
  /** The last segment, open for appending at `size`. */
  readonly fh: FileHandle;
  readonly size: number;
  readonly tornTailTruncated: boolean;
}

async function listSegments(walDir: string, logger: Logger): Promise<SegmentName[]> {
  const segments: SegmentName[] = [];
  for (const file of await io(walDir, () => readdir(walDir))) {
    const parsed = parseSegmentFileName(file);
    if (parsed !== undefined) segments.push(parsed);
    else if (!file.endsWith(TMP_SUFFIX)) logger.warn({ file: join(walDir, file) }, 'ignoring unknown file in the WAL directory');
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    if (segments[i]!.seq !== segments[i - 1]!.seq + 1) {
      throw new TsswarmError('STORAGE_CORRUPT', {
        file: join(walDir, segments[i]!.file),
        offset: 0,
        reason: `segment ${segments[i - 1]!.seq + 1} is missing before it`,
      });
    }
  }
  return segments;
}

function replaySegment(replay: LogReplay, buf: Buffer, path: string, isLast: boolean): ReturnType<typeof scanSegment> {
  const scan = scanSegment(buf, path, isLast);
  for (const rec of scan.records) {
    const where = { file: path, offset: rec.offset };
    let decoded;
    if (rec.type === RecordType.Entry) {
      decoded = decodeEntry(rec.payload);
      if (typeof decoded !== 'string') replay.entry(decoded, where);
    } else if (rec.type === RecordType.HardState) {
      decoded = decodeHardState(rec.payload);
      if (typeof decoded !== 'string') replay.hardStateRecord(decoded, where);
    } else {
      decoded = decodeMarker(rec.payload);
      if (typeof decoded !== 'string') replay.marker(decoded.index, decoded.term, where);
    }
    if (typeof decoded === 'string') throw new TsswarmError('STORAGE_CORRUPT', { ...where, reason: decoded });
  }
  return scan;
}

/**
 * Reads the WAL in walDir against the snapshot loaded from disk. Creates the first segment of
 * a fresh log. Throws STORAGE_CORRUPT for anything but a torn tail, which it truncates.
 */
export async function recoverWal(
  walDir: string,
  snapshot: Snapshot | undefined,
  snapshotFilesExist: boolean,
  logger: Logger,
): Promise<RecoveredWal> {
  let segments = await listSegments(walDir, logger);
  if (segments.length === 0) {
    if (snapshotFilesExist) {
      throw new TsswarmError('STORAGE_CORRUPT', { file: walDir, offset: 0, reason: 'snapshots exist but the WAL has no segment' });
    }
    const file = segmentFileName(0, 1);
    await writeFileAtomic(walDir, file, Buffer.concat([encodeSegmentHeader(0, 1), encodeSave(ZERO_HARD_STATE, [])]));
    segments = [{ seq: 0, firstIndex: 1, file }];
  }
  const replay = new LogReplay();
  let tornTailTruncated = false;
  let size = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const path = join(walDir, segment.file);
    const isLast = i === segments.length - 1;
    const buf = await io(path, () => readFile(path));
    checkSegmentHeader(buf, segment, path);
    const scan = replaySegment(replay, buf, path, isLast);
    if (scan.torn !== undefined) {
      logger.warn(
        { file: path, offset: scan.torn.offset, reason: scan.torn.reason, droppedBytes: buf.length - scan.validEnd },
        'truncating torn write at the end of the WAL',
      );
      tornTailTruncated = true;
    }
    size = scan.validEnd;
  }
  const result = replay.finish(snapshot?.metadata);
  const lastPath = join(walDir, segments[segments.length - 1]!.file);
  const fh = await io(lastPath, () => open(lastPath, 'r+'));
  try {
    if (tornTailTruncated) {
      await io(lastPath, async () => {
        await fh.truncate(size);
        await fh.datasync();
      });
    }
  } catch (err) {
    await fh.close();
    throw err;
  }
  return { ...result, segments, fh, size, tornTailTruncated };
}
