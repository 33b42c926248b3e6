/**
 * The WAL's record framing and payloads. Binary and little-endian throughout, because entries
 * are the hot path: an entry costs 9 bytes of framing plus 17 bytes of fields plus its data.
 *
 * A record on disk:
 *   offset 0  u32  CRC-32 (zlib.crc32) of bytes [4, 9 + length): length, type and payload
 *   offset 4  u32  payload length
 *   offset 8  u8   record type
 *   offset 9  ...  payload
 * The CRC covers the length and the type too, so a flipped bit in either is caught rather
 * than silently misframing the rest of the segment.
 */
import { crc32 } from 'node:zlib';
import type { Entry, HardState } from '../types.js';
import { EntryType } from '../types.js';

export const RECORD_HEADER_BYTES = 9;

/** Record types. Append only: segments on disk carry these numbers. */
export enum RecordType {
  Entry = 1,
  HardState = 2,
  SnapshotMarker = 3,
}

const ENTRY_FIELDS_BYTES = 17; // term u64, index u64, type u8
const MARKER_BYTES = 16; // index u64, term u64
const HARD_STATE_FIELDS_BYTES = 16; // term u64, commit u64, then the vote as UTF-8
const TWO_32 = 2 ** 32;

export function isRecordType(n: number): n is RecordType {
  return n === RecordType.Entry || n === RecordType.HardState || n === RecordType.SnapshotMarker;
}

/** Writes a non-negative safe integer as u64 LE. Callers validate the range once per save. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/** Reads a u64 LE; undefined when it does not fit a JS safe integer (never written by us). */
export function readU64(buf: Buffer, offset: number): number | undefined {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > 0x1fffff) return undefined;
  return hi * TWO_32 + lo;
}

export function isU64(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function entryRecordBytes(e: Entry): number {
  return RECORD_HEADER_BYTES + ENTRY_FIELDS_BYTES + e.data.byteLength;
}

export function hardStateRecordBytes(hs: HardState): number {
  return RECORD_HEADER_BYTES + HARD_STATE_FIELDS_BYTES + Buffer.byteLength(hs.vote, 'utf8');
}

export const MARKER_RECORD_BYTES = RECORD_HEADER_BYTES + MARKER_BYTES;

/** Fills in length, type and CRC of a record whose payload is already at offset+9. */
function seal(buf: Buffer, offset: number, type: RecordType, payloadLength: number): number {
  buf.writeUInt32LE(payloadLength, offset + 4);
  buf.writeUInt8(type, offset + 8);
  const end = offset + RECORD_HEADER_BYTES + payloadLength;
  buf.writeUInt32LE(crc32(buf.subarray(offset + 4, end)), offset);
  return end;
}

/** Encodes an entry record at offset; returns the offset after it. */
export function putEntryRecord(buf: Buffer, offset: number, e: Entry): number {
  const p = offset + RECORD_HEADER_BYTES;
  writeU64(buf, e.term, p);
  writeU64(buf, e.index, p + 8);
  buf.writeUInt8(e.type, p + 16);
  buf.set(e.data, p + ENTRY_FIELDS_BYTES);
  return seal(buf, offset, RecordType.Entry, ENTRY_FIELDS_BYTES + e.data.byteLength);
}

export function putHardStateRecord(buf: Buffer, offset: number, hs: HardState): number {
  const p = offset + RECORD_HEADER_BYTES;
  writeU64(buf, hs.term, p);
  writeU64(buf, hs.commit, p + 8);
  const voteBytes = buf.write(hs.vote, p + HARD_STATE_FIELDS_BYTES, 'utf8');
  return seal(buf, offset, RecordType.HardState, HARD_STATE_FIELDS_BYTES + voteBytes);
}

export function putMarkerRecord(buf: Buffer, offset: number, index: number, term: number): number {
  const p = offset + RECORD_HEADER_BYTES;
  writeU64(buf, index, p);
  writeU64(buf, term, p + 8);
  return seal(buf, offset, RecordType.SnapshotMarker, MARKER_BYTES);
}

/** The outcome of framing one record: either a record, or why the bytes there are not one. */
export type FrameResult =
  | { readonly ok: true; readonly type: RecordType; readonly payload: Buffer; readonly next: number }
  | { readonly ok: false; readonly reason: string };

/** Frames the record at offset within buf[0, end). Checks size, type and CRC; not the payload. */
export function frameRecord(buf: Buffer, offset: number, end: number): FrameResult {
  if (end - offset < RECORD_HEADER_BYTES) return { ok: false, reason: 'incomplete record header' };
  const length = buf.readUInt32LE(offset + 4);
  const type = buf.readUInt8(offset + 8);
  const next = offset + RECORD_HEADER_BYTES + length;
  if (next > end) return { ok: false, reason: `record length ${length} runs past the end of the file` };
  if (crc32(buf.subarray(offset + 4, next)) !== buf.readUInt32LE(offset)) {
    return { ok: false, reason: 'record CRC mismatch' };
  }
  if (!isRecordType(type)) return { ok: false, reason: `unknown record type ${type}` };
  return { ok: true, type, payload: buf.subarray(offset + RECORD_HEADER_BYTES, next), next };
}

/** Payload decoders return a reason string when a CRC-valid payload makes no sense. */
export function decodeEntry(payload: Buffer): Entry | string {
  if (payload.length < ENTRY_FIELDS_BYTES) return 'entry record too short';
  const term = readU64(payload, 0);
  const index = readU64(payload, 8);
  const type = payload.readUInt8(16);
  if (term === undefined || index === undefined || index === 0) return 'entry term or index out of range';
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) return `unknown entry type ${type}`;
  // A copy, so recovered entries do not pin whole segment buffers in memory.
  const data = new Uint8Array(payload.subarray(ENTRY_FIELDS_BYTES));
  return { term, index, type, data };
}

export function decodeHardState(payload: Buffer): HardState | string {
  if (payload.length < HARD_STATE_FIELDS_BYTES) return 'hard state record too short';
  const term = readU64(payload, 0);
  const commit = readU64(payload, 8);
  if (term === undefined || commit === undefined) return 'hard state term or commit out of range';
  return { term, commit, vote: payload.toString('utf8', HARD_STATE_FIELDS_BYTES) };
}

export function decodeMarker(payload: Buffer): { index: number; term: number } | string {
  if (payload.length !== MARKER_BYTES) return 'snapshot marker has the wrong size';
  const index = readU64(payload, 0);
  const term = readU64(payload, 8);
  if (index === undefined || term === undefined) return 'snapshot marker index or term out of range';
  return { index, term };
}

/** The records of one save() in one buffer: its entries first, then the hard state. */
export function encodeSave(hs: HardState | undefined, entries: readonly Entry[]): Buffer {
  let size = hs === undefined ? 0 : hardStateRecordBytes(hs);
  for (const e of entries) size += entryRecordBytes(e);
  const buf = Buffer.allocUnsafe(size);
  let offset = 0;
  // Entries before the hard state: a torn write can then lose a commit index but never keep a
  // commit index whose entries were lost.
  for (const e of entries) offset = putEntryRecord(buf, offset, e);
  if (hs !== undefined) putHardStateRecord(buf, offset, hs);
  return buf;
}
