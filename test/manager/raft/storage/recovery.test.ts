import { mkdir, readFile, readdir, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/log/logger.js';
import { openRaftLog } from '../../../../src/manager/raft/storage/index.js';
import { putEntryRecord } from '../../../../src/manager/raft/storage/record-codec.js';
import { captureLogger, entries, entry, ids, tempDir, thrown } from './helpers.js';

const logger = silentLogger();
const FIRST_SEGMENT = '0000000000000000-0000000000000001.wal';
/** Segment header (32) plus the zero hard state record every new segment starts with (25). */
const FIRST_RECORD = 32 + 25;
const DATA = 40;
const ENTRY_RECORD = 9 + 17 + DATA;

function entryOffset(index: number): number {
  return FIRST_RECORD + (index - 1) * ENTRY_RECORD;
}

/** A single-segment log of entries 1..n (DATA bytes each), written in one save. Returns its bytes. */
async function writeLog(dir: string, n: number): Promise<Buffer> {
  const { log } = await openRaftLog(dir, {}, logger);
  await log.save(undefined, entries(1, n, 1, DATA), true);
  await log.close();
  return readFile(join(dir, 'wal', FIRST_SEGMENT));
}

async function logWithSegment(root: string, name: string, bytes: Uint8Array): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'wal'), { recursive: true });
  await writeFile(join(dir, 'wal', FIRST_SEGMENT), bytes);
  return dir;
}

describe('torn tail', () => {
  it('at every byte of the final record, recovers exactly the preceding records', async () => {
    const root = await tempDir('torn');
    const full = await writeLog(join(root, 'ref'), 5);
    const last = entryOffset(5);
    expect(full.length).toBe(last + ENTRY_RECORD);
    let cases = 0;
    for (let cut = last; cut < full.length; cut++) {
      // Two shapes of a torn write: the file ends early, or its end never got its data (zeros).
      const zeroFilled = Buffer.concat([full.subarray(0, cut), Buffer.alloc(full.length - cut)]);
      for (const [shape, bytes] of [['short', full.subarray(0, cut)], ['zeros', zeroFilled]] as const) {
        const dir = await logWithSegment(root, `${shape}-${cut}`, bytes);
        const cap = captureLogger();
        const { log, recovered } = await openRaftLog(dir, {}, cap.logger);
        expect(ids(recovered.entries), `${shape} ${cut}`).toEqual(['1@1', '2@1', '3@1', '4@1']);
        expect(recovered.entries).toEqual(entries(1, 4, 1, DATA));
        const torn = shape === 'zeros' || cut > last;
        expect(recovered.tornTailTruncated, `${shape} ${cut}`).toBe(torn);
        const segment = join(dir, 'wal', FIRST_SEGMENT);
        expect((await stat(segment)).size).toBe(last);
        if (torn) {
          const warn = cap.lines.find((l) => l.msg === 'truncating torn write at the end of the WAL');
          expect(warn).toMatchObject({ level: 40, file: segment, offset: last });
        }
        // The log goes on from there, and the new record is read back after the old prefix.
        await log.save(undefined, [entry(5, 2, DATA)], true);
        await log.close();
        const again = await openRaftLog(dir, {}, logger);
        expect(ids(again.recovered.entries)).toEqual(['1@1', '2@1', '3@1', '4@1', '5@2']);
        expect(again.recovered.tornTailTruncated).toBe(false);
        await again.log.close();
        await rm(dir, { recursive: true });
        cases++;
      }
    }
    expect(cases).toBe(2 * ENTRY_RECORD);
  });

  it('treats zeros after the last whole record as a torn tail', async () => {
    const dir = await tempDir('zerotail');
    await writeLog(dir, 3);
    await appendFile(join(dir, 'wal', FIRST_SEGMENT), Buffer.alloc(4096));
    const { log, recovered } = await openRaftLog(dir, {}, logger);
    expect(ids(recovered.entries)).toEqual(['1@1', '2@1', '3@1']);
    expect(recovered.tornTailTruncated).toBe(true);
    await log.close();
  });
});

describe('corruption', () => {
  // Byte positions inside entry 5's record: CRC, length (low and high byte), type, payload.
  it.each([
    ['crc', 0],
    ['length low byte', 4],
    ['length high byte', 7],
    ['type', 8],
    ['entry index', 9 + 8],
    ['data', 9 + 17 + 20],
  ])('a flipped byte in a middle record (%s) is STORAGE_CORRUPT at that record', async (_name, at) => {
    const root = await tempDir('flip');
    const bytes = Buffer.from(await writeLog(join(root, 'ref'), 10));
    bytes[entryOffset(5) + at]! ^= 0x10;
    const dir = await logWithSegment(root, 'bad', bytes);
    const err = await thrown(() => openRaftLog(dir, {}, logger));
    expect(err.code).toBe('STORAGE_CORRUPT');
    expect(err.details).toMatchObject({ file: join(dir, 'wal', FIRST_SEGMENT), offset: entryOffset(5) });
    // Nothing was truncated: the evidence is left as it was.
    expect(await readFile(join(dir, 'wal', FIRST_SEGMENT))).toEqual(bytes);
  });

  it('a flipped byte in the final record of the last segment is a torn tail', async () => {
    const root = await tempDir('fliplast');
    const bytes = Buffer.from(await writeLog(join(root, 'ref'), 10));
    bytes[entryOffset(10) + 30]! ^= 0x01;
    const dir = await logWithSegment(root, 'bad', bytes);
    const { log, recovered } = await openRaftLog(dir, {}, logger);
    expect(recovered.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(recovered.tornTailTruncated).toBe(true);
    await log.close();
  });

  it('a gap inside the WAL is STORAGE_CORRUPT at the record after the gap', async () => {
    const root = await tempDir('walgap');
    const good = await writeLog(join(root, 'ref'), 4);
    const extra = Buffer.alloc(2 * ENTRY_RECORD);
    putEntryRecord(extra, putEntryRecord(extra, 0, entry(6, 1, DATA)), entry(7, 1, DATA));
    const dir = await logWithSegment(root, 'gap', Buffer.concat([good, extra]));
    const err = await thrown(() => openRaftLog(dir, {}, logger));
    expect(err.code).toBe('STORAGE_CORRUPT');
    expect(err.details).toMatchObject({ file: join(dir, 'wal', FIRST_SEGMENT), offset: good.length });
  });
});

describe('several segments', () => {
  const small = { segmentBytes: 4096 };

  async function segmentedLog(dir: string): Promise<string[]> {
    const { log } = await openRaftLog(dir, small, logger);
    for (let i = 1; i <= 60; i++) await log.save({ term: 1, vote: '', commit: i - 1 }, [entry(i, 1, 256)], true);
    await log.close();
    const names = (await readdir(join(dir, 'wal'))).sort();
    expect(names.length).toBeGreaterThanOrEqual(3);
    return names.map((n) => join(dir, 'wal', n));
  }

  it('a bad final record of a middle segment is STORAGE_CORRUPT, not a torn tail', async () => {
    const dir = await tempDir('midseg');
    const [first] = await segmentedLog(dir);
    const bytes = await readFile(first!);
    // The segment ends with a hard state record (25 bytes) after its last entry record.
    const lastEntry = bytes.length - 25 - (9 + 17 + 256);
    bytes[bytes.length - 30]! ^= 0xff;
    await writeFile(first!, bytes);
    const err = await thrown(() => openRaftLog(dir, small, logger));
    expect(err.code).toBe('STORAGE_CORRUPT');
    expect(err.details).toMatchObject({ file: first, offset: lastEntry });
  });

  it('a middle segment cut short is STORAGE_CORRUPT', async () => {
    const dir = await tempDir('midshort');
    const [, second] = await segmentedLog(dir);
    const bytes = await readFile(second!);
    await writeFile(second!, bytes.subarray(0, bytes.length - 10));
    const err = await thrown(() => openRaftLog(dir, small, logger));
    expect(err.code).toBe('STORAGE_CORRUPT');
    expect(err.details?.file).toBe(second);
  });

  it('a damaged header of the final segment is STORAGE_CORRUPT; a torn end of it is not', async () => {
    const dir = await tempDir('header');
    const paths = await segmentedLog(dir);
    const lastPath = paths[paths.length - 1]!;
    const original = await readFile(lastPath);

    for (const at of [0, 9, 13, 20, 28]) {
      const bad = Buffer.from(original);
      bad[at]! ^= 0x04;
      await writeFile(lastPath, bad);
      const err = await thrown(() => openRaftLog(dir, small, logger));
      expect(err.code, `header byte ${at}`).toBe('STORAGE_CORRUPT');
      expect(err.details?.file).toBe(lastPath);
      expect(err.details?.offset).toBeLessThan(32);
    }
    await writeFile(lastPath, original.subarray(0, 20)); // segments are created whole, never torn here
    expect((await thrown(() => openRaftLog(dir, small, logger))).code).toBe('STORAGE_CORRUPT');

    await writeFile(lastPath, original.subarray(0, original.length - 7));
    const { log, recovered } = await openRaftLog(dir, small, logger);
    expect(recovered.tornTailTruncated).toBe(true);
    expect(recovered.entries.map((e) => e.index)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(recovered.hardState.commit).toBe(58); // the torn record was the last hard state
    await log.close();
  });

  it('a missing middle segment is STORAGE_CORRUPT', async () => {
    const dir = await tempDir('missing');
    const paths = await segmentedLog(dir);
    await rm(paths[1]!);
    const err = await thrown(() => openRaftLog(dir, small, logger));
    expect(err.code).toBe('STORAGE_CORRUPT');
    expect(err.details?.file).toBe(paths[2]);
  });

  it('entries missing between the snapshot and the WAL (a gap) are STORAGE_CORRUPT', async () => {
    const dir = await tempDir('snapgap');
    const { log } = await openRaftLog(dir, small, logger);
    for (let i = 1; i <= 60; i++) await log.save(undefined, [entry(i, 1, 256)], true);
    await log.saveSnapshot({ metadata: { index: 40, term: 1, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(8) });
    await log.releaseTo(40);
    await log.close();
    // Without the snapshot, the WAL starts after entry 1 with nothing to bridge the gap.
    await rm(join(dir, 'snap'), { recursive: true });
    await mkdir(join(dir, 'snap'));
    expect((await thrown(() => openRaftLog(dir, small, logger))).code).toBe('STORAGE_CORRUPT');
  });

  it('snapshots without any WAL segment are STORAGE_CORRUPT', async () => {
    const dir = await tempDir('nowal');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 3, 1), true);
    await log.saveSnapshot({ metadata: { index: 3, term: 1, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    await log.close();
    await rm(join(dir, 'wal'), { recursive: true });
    expect((await thrown(() => openRaftLog(dir, {}, logger))).code).toBe('STORAGE_CORRUPT');
  });
});
