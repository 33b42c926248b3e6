/**
 * One WAL segment: its name, its fixed header and the scan that splits it into records.
 *
 * A segment is named <seq>-<firstIndex>.wal (16 hex digits each) so that file order is
 * sequence order and releaseTo can tell which entries a segment may hold without reading it.
 * Segments are created whole (header written to a temp file, fdatasync'ed, renamed), so a
 * damaged header is never a torn write: it is corruption.
 */
import { crc32 } from 'node:zlib';
import { TsswarmError } from '../../../errors/index.js';
import { frameRecord, isRecordType, readU64, writeU64, RECORD_HEADER_BYTES, type RecordType } from './record-codec.js';

export const SEGMENT_HEADER_BYTES = 32;
const MAGIC = Buffer.from('TSWALSEG', 'ascii');
const FORMAT_VERSION = 1;
const NAME_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export interface SegmentName {
  readonly seq: number;
  /** The lowest index an entry first written to this segment can have: the log's lastIndex+1 when it was cut. */
  readonly firstIndex: number;
  readonly file: string;
}

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${firstIndex.toString(16).padStart(16, '0')}.wal`;
}

export function parseSegmentFileName(file: string): SegmentName | undefined {
  const m = NAME_RE.exec(file);
  if (m === null) return undefined;
  const seq = Number.parseInt(m[1] ?? '', 16);
  const firstIndex = Number.parseInt(m[2] ?? '', 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, file };
}

/** Header layout: magic(8) | crc32 of [12, 32) (4) | version u32 | seq u64 | firstIndex u64. */
export function encodeSegmentHeader(seq: number, firstIndex: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 12);
  writeU64(buf, seq, 16);
  writeU64(buf, firstIndex, 24);
  buf.writeUInt32LE(crc32(buf.subarray(12)), 8);
  return buf;
}

function corrupt(file: string, offset: number, reason: string): TsswarmError {
  return new TsswarmError('STORAGE_CORRUPT', { file, offset, reason });
}

/** Throws STORAGE_CORRUPT unless buf starts with a valid header matching the file's name. */
export function checkSegmentHeader(buf: Buffer, name: SegmentName, path: string): void {
  if (buf.length < SEGMENT_HEADER_BYTES) throw corrupt(path, 0, `segment header truncated to ${buf.length} bytes`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw corrupt(path, 0, 'bad segment magic');
  if (crc32(buf.subarray(12, SEGMENT_HEADER_BYTES)) !== buf.readUInt32LE(8)) {
    throw corrupt(path, 8, 'segment header CRC mismatch');
  }
  const version = buf.readUInt32LE(12);
  if (version !== FORMAT_VERSION) throw corrupt(path, 12, `unsupported segment format version ${version}`);
  if (readU64(buf, 16) !== name.seq || readU64(buf, 24) !== name.firstIndex) {
    throw corrupt(path, 16, 'segment header does not match its file name');
  }
}

export interface ScannedRecord {
  readonly type: RecordType;
  readonly payload: Buffer;
  readonly offset: number;
}

export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Where valid data ends: the file's length, or the start of a torn tail. */
  readonly validEnd: number;
  /** Present when the tail was torn (only possible in the last segment). */
  readonly torn?: { readonly offset: number; readonly reason: string };
}

/** True when a well-formed record (known type, fits, CRC matches) starts anywhere in (from, end). */
function validRecordFollows(buf: Buffer, from: number, end: number): boolean {
  for (let off = from + 1; off + RECORD_HEADER_BYTES <= end; off++) {
    // Cheap filters first: almost every offset fails the type or length check before any CRC.
    if (!isRecordType(buf.readUInt8(off + 8))) continue;
    if (off + RECORD_HEADER_BYTES + buf.readUInt32LE(off + 4) > end) continue;
    if (frameRecord(buf, off, end).ok) return true;
  }
  return false;
}

/**
 * Splits a segment (header already checked) into records. A bad record is a torn tail only if
 * this is the last segment and no valid record follows it (what follows is a partial write,
 * zeros, or nothing); otherwise it throws STORAGE_CORRUPT naming the file and offset, because
 * dropping it would silently drop entries that were acknowledged.
 */
export function scanSegment(buf: Buffer, path: string, isLast: boolean): SegmentScan {
  const records: ScannedRecord[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  const end = buf.length;
  while (offset < end) {
    const r = frameRecord(buf, offset, end);
    if (r.ok) {
      records.push({ type: r.type, payload: r.payload, offset });
      offset = r.next;
      continue;
    }
    if (!isLast) throw corrupt(path, offset, `${r.reason} in a segment that is not the last`);
    if (validRecordFollows(buf, offset, end)) throw corrupt(path, offset, `${r.reason}, followed by valid records`);
    return { records, validEnd: offset, torn: { offset, reason: r.reason } };
  }
  return { records, validEnd: end };
}
