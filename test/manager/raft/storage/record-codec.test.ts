import { describe, expect, it } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  decodeEntry,
  decodeHardState,
  encodeSave,
  frameRecord,
  readU64,
  writeU64,
} from '../../../../src/manager/raft/storage/record-codec.js';
import { parseSegmentFileName, segmentFileName } from '../../../../src/manager/raft/storage/segment-file.js';
import { decodeSnapshotFile, encodeSnapshotFile } from '../../../../src/manager/raft/storage/snapshot-store.js';
import { EntryType } from '../../../../src/manager/raft/types.js';
import { entry } from './helpers.js';

describe('record codec', () => {
  it('round-trips u64 values up to 2^53-1', () => {
    const buf = Buffer.alloc(8);
    for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
      writeU64(buf, n, 0);
      expect(readU64(buf, 0)).toBe(n);
    }
    buf.fill(0xff);
    expect(readU64(buf, 0)).toBeUndefined();
  });

  it('frames a save as entries then hard state, each with a valid CRC', () => {
    const big = { index: 2 ** 40, term: 2 ** 33, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) };
    const buf = encodeSave({ term: 9, vote: 'nœud-1', commit: 2 ** 40 }, [entry(2 ** 40 - 1, 3, 0), big]);
    const records = [];
    for (let off = 0; off < buf.length; ) {
      const r = frameRecord(buf, off, buf.length);
      if (!r.ok) throw new Error(r.reason);
      records.push(r);
      off = r.next;
    }
    expect(records.map((r) => r.type)).toEqual([RecordType.Entry, RecordType.Entry, RecordType.HardState]);
    expect(decodeEntry(records[0]!.payload)).toEqual(entry(2 ** 40 - 1, 3, 0));
    expect(decodeEntry(records[1]!.payload)).toEqual(big);
    expect(decodeHardState(records[2]!.payload)).toEqual({ term: 9, vote: 'nœud-1', commit: 2 ** 40 });
  });

  it('refuses a record that is short, runs past the end, fails its CRC or has an unknown type', () => {
    const buf = encodeSave(undefined, [entry(1, 1, 10)]);
    expect(frameRecord(buf, 0, RECORD_HEADER_BYTES - 1).ok).toBe(false);
    expect(frameRecord(buf, 0, buf.length - 1).ok).toBe(false);
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i]! ^= 0x80;
      expect(frameRecord(bad, 0, bad.length).ok, `byte ${i}`).toBe(false);
    }
  });

  it('names segments so that name order is sequence order', () => {
    const name = segmentFileName(0x1f, 2 ** 40);
    expect(name).toBe('000000000000001f-0000010000000000.wal');
    expect(parseSegmentFileName(name)).toEqual({ seq: 0x1f, firstIndex: 2 ** 40, file: name });
    expect(parseSegmentFileName('1f-10.wal')).toBeUndefined();
    expect(segmentFileName(9, 1) < segmentFileName(10, 1)).toBe(true);
  });

  it('round-trips a snapshot file and detects any flipped byte', () => {
    const snap = { metadata: { index: 77, term: 4, confState: { voters: ['a', 'bé'], learners: ['c'] } }, data: new Uint8Array([5, 6, 7]) };
    const bytes = encodeSnapshotFile(snap);
    expect(decodeSnapshotFile(bytes)).toEqual(snap);
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i]! ^= 0x01;
      expect(typeof decodeSnapshotFile(bad), `byte ${i}`).toBe('string');
    }
  });
});
