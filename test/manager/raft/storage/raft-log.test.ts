import { readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRaftLog, type RaftLog } from '../../../../src/manager/raft/storage/index.js';
import { parseSegmentFileName } from '../../../../src/manager/raft/storage/segment-file.js';
import type { Snapshot } from '../../../../src/manager/raft/types.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { captureLogger, entries, entry, ids, tempDir, thrown } from './helpers.js';

const logger = silentLogger();

function snapshot(index: number, term: number, payload = `state@${index}`): Snapshot {
  return {
    metadata: { index, term, confState: { voters: ['node-a', 'node-b', 'node-c'], learners: ['node-d'] } },
    data: new TextEncoder().encode(payload),
  };
}

async function reopen(log: RaftLog, dir: string, config: unknown = {}) {
  await log.close();
  return openRaftLog(dir, config, logger);
}

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'wal'))).sort();
}

describe('openRaftLog on a fresh directory', () => {
  it('gives zero hard state, no snapshot and no entries', async () => {
    const dir = join(await tempDir('fresh'), 'nested', 'raft');
    const { log, recovered } = await openRaftLog(dir, {}, logger);
    expect(recovered).toEqual({ hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: [], tornTailTruncated: false });
    await log.close();
    expect(await walFiles(dir)).toEqual(['0000000000000000-0000000000000001.wal']);
  });

  it('rejects an invalid config with CONFIG_INVALID', async () => {
    const dir = await tempDir('config');
    expect((await thrown(() => openRaftLog(dir, { segmentBytes: 10 }, logger))).code).toBe('CONFIG_INVALID');
    expect((await thrown(() => openRaftLog(dir, { segmentByts: 1 << 20 }, logger))).code).toBe('CONFIG_INVALID');
  });
});

describe('round trip across close and reopen', () => {
  it('keeps hard state, entries and snapshot', async () => {
    const dir = await tempDir('roundtrip');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save({ term: 1, vote: 'node-a', commit: 0 }, entries(1, 5, 1), true);
    await log.save({ term: 2, vote: 'nöde-b', commit: 4 }, entries(6, 8, 2, 300), true);
    await log.saveSnapshot(snapshot(4, 1));
    await log.save({ term: 2, vote: 'nöde-b', commit: 8 }, [], true);
    const { log: log2, recovered } = await reopen(log, dir);
    expect(recovered.hardState).toEqual({ term: 2, vote: 'nöde-b', commit: 8 });
    expect(recovered.snapshot).toEqual(snapshot(4, 1));
    expect(recovered.entries).toEqual([...entries(5, 5, 1), ...entries(6, 8, 2, 300)]);
    expect(recovered.tornTailTruncated).toBe(false);
    await log2.close();
  });

  it('makes unsynced saves durable on close', async () => {
    const dir = await tempDir('nosync');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 3, 1), false);
    const before = log.stats().fsyncs;
    await log.close();
    expect(log.stats().fsyncs).toBe(before + 1);
    const { log: log2, recovered } = await openRaftLog(dir, {}, logger);
    expect(ids(recovered.entries)).toEqual(['1@1', '2@1', '3@1']);
    await log2.close();
  });

  it('rejects calls after close with STORAGE_CLOSED', async () => {
    const dir = await tempDir('closed');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.close();
    await log.close();
    expect((await thrown(() => log.save(undefined, [entry(1, 1)], true))).code).toBe('STORAGE_CLOSED');
    expect((await thrown(() => log.saveSnapshot(snapshot(1, 1)))).code).toBe('STORAGE_CLOSED');
  });

  it('refuses entries that would leave a gap or rewrite the snapshot, before writing anything', async () => {
    const dir = await tempDir('apigap');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 3, 1), true);
    expect((await thrown(() => log.save(undefined, [entry(5, 1)], true))).code).toBe('INTERNAL');
    expect((await thrown(() => log.save(undefined, [entry(4, 1), entry(6, 1)], true))).code).toBe('INTERNAL');
    await log.save(undefined, [entry(4, 1)], true);
    void log.saveSnapshot(snapshot(2, 1)); // queued: the check below already knows about it
    expect((await thrown(() => log.save(undefined, [entry(2, 2)], true))).code).toBe('INTERNAL');
    const { log: log2, recovered } = await reopen(log, dir);
    expect(ids(recovered.entries)).toEqual(['3@1', '4@1']);
    await log2.close();
  });
});

describe('overwrites', () => {
  it('an entry at or below the last index replaces that suffix', async () => {
    const dir = await tempDir('overwrite');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save({ term: 1, vote: 'a', commit: 2 }, entries(1, 10, 1), true);
    await log.save({ term: 2, vote: 'b', commit: 2 }, entries(6, 7, 2), true);
    const { log: log2, recovered } = await reopen(log, dir);
    expect(ids(recovered.entries)).toEqual(['1@1', '2@1', '3@1', '4@1', '5@1', '6@2', '7@2']);
    await log2.save(undefined, entries(3, 3, 3), true);
    await log2.save(undefined, entries(4, 5, 3), true);
    const { log: log3, recovered: again } = await reopen(log2, dir);
    expect(ids(again.entries)).toEqual(['1@1', '2@1', '3@3', '4@3', '5@3']);
    await log3.close();
  });

  it('a received snapshot that conflicts with the log replaces it; one that matches keeps it', async () => {
    const dir = await tempDir('snapconflict');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save({ term: 1, vote: 'a', commit: 3 }, entries(1, 10, 1), true);
    await log.saveSnapshot(snapshot(5, 1)); // matches entry 5@1: entries 6..10 stay
    const { log: log2, recovered } = await reopen(log, dir);
    expect(ids(recovered.entries)).toEqual(['6@1', '7@1', '8@1', '9@1', '10@1']);
    await log2.saveSnapshot(snapshot(8, 4)); // entry 8 has term 1, not 4: the log is replaced
    await log2.save({ term: 4, vote: '', commit: 8 }, [], true);
    const { log: log3, recovered: r3 } = await reopen(log2, dir);
    expect(r3.snapshot?.metadata.index).toBe(8);
    expect(r3.entries).toEqual([]);
    await log3.save(undefined, entries(9, 9, 4), true);
    const { log: log4, recovered: r4 } = await reopen(log3, dir);
    expect(ids(r4.entries)).toEqual(['9@4']);
    await log4.close();
  });
});

describe('snapshots', () => {
  it('keeps the newest two snapshot files and refuses an older snapshot', async () => {
    const dir = await tempDir('snapkeep');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 30, 1), true);
    for (const i of [10, 20, 30]) await log.saveSnapshot(snapshot(i, 1));
    await log.saveSnapshot(snapshot(30, 1)); // same index: a no-op
    const err = await thrown(() => log.saveSnapshot(snapshot(25, 1)));
    expect(err.code).toBe('STORAGE_SNAPSHOT_OUT_OF_DATE');
    expect(await readdir(join(dir, 'snap'))).toEqual(['0000000000000014-0000000000000001.snap', '000000000000001e-0000000000000001.snap']);
    await log.save(undefined, [entry(31, 1)], true); // the log still works after a refused snapshot
    const { log: log2, recovered } = await reopen(log, dir);
    expect(recovered.snapshot?.metadata.index).toBe(30);
    expect(ids(recovered.entries)).toEqual(['31@1']);
    await log2.close();
  });

  it('removes temp files left by a crash and ignores them', async () => {
    const dir = await tempDir('snaptmp');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 5, 1), true);
    await log.saveSnapshot(snapshot(3, 1));
    await log.close();
    await writeFile(join(dir, 'snap', '0000000000000005-0000000000000001.snap.tmp'), 'half a snapsh');
    await writeFile(join(dir, 'wal', '0000000000000001-0000000000000006.wal.tmp'), 'half a segment');
    const cap = captureLogger();
    const { log: log2, recovered } = await openRaftLog(dir, {}, cap.logger);
    expect(await readdir(join(dir, 'snap'))).toEqual(['0000000000000003-0000000000000001.snap']);
    expect(await walFiles(dir)).toEqual(['0000000000000000-0000000000000001.wal']);
    expect(recovered.snapshot?.metadata.index).toBe(3);
    expect(ids(recovered.entries)).toEqual(['4@1', '5@1']);
    expect(cap.lines.filter((l) => l.msg === 'removed temp files left by an interrupted write')).toHaveLength(2);
    await log2.close();
  });

  it('falls back to the older snapshot when the newest is damaged and the WAL still covers it', async () => {
    const dir = await tempDir('snapfallback');
    const { log } = await openRaftLog(dir, {}, logger);
    await log.save(undefined, entries(1, 12, 1), true);
    await log.saveSnapshot(snapshot(5, 1));
    await log.saveSnapshot(snapshot(10, 1));
    await log.close();
    const newest = join(dir, 'snap', '000000000000000a-0000000000000001.snap');
    const bytes = await readFile(newest);
    bytes[bytes.length - 1]! ^= 0x40;
    await writeFile(newest, bytes);
    const cap = captureLogger();
    const { log: log2, recovered } = await openRaftLog(dir, {}, cap.logger);
    expect(recovered.snapshot?.metadata.index).toBe(5);
    expect(ids(recovered.entries)).toEqual(entries(6, 12, 1).map((e) => `${e.index}@1`));
    expect(cap.lines.some((l) => l.msg === 'skipping damaged snapshot file' && l.file === newest)).toBe(true);
    await log2.close();
  });
});

describe('segments', () => {
  const small = { segmentBytes: 4096 };

  it('rolls over and releaseTo deletes only whole segments at or below the snapshot', async () => {
    const dir = await tempDir('rollover');
    const { log } = await openRaftLog(dir, small, logger);
    for (let i = 1; i <= 100; i++) await log.save({ term: 1, vote: 'a', commit: i - 1 }, [entry(i, 1, 256)], true);
    const before = (await walFiles(dir)).map((f) => parseSegmentFileName(f)!);
    expect(before.length).toBeGreaterThan(5);
    expect(before.map((s) => s.seq)).toEqual(before.map((_, i) => i));

    await log.releaseTo(60); // no snapshot yet: nothing may go
    expect(await walFiles(dir)).toHaveLength(before.length);

    // Snapshot one entry short of segment 2's end: segment 2 still holds entry s+1, so only
    // segments 0 and 1 may go, even though releaseTo asks for more (it is clamped to s).
    const s = before[3]!.firstIndex - 2;
    await log.saveSnapshot(snapshot(s, 1));
    await log.releaseTo(s + 10);
    expect(await walFiles(dir)).toEqual(before.slice(2).map((seg) => seg.file));

    const { log: log2, recovered } = await reopen(log, dir, small);
    expect(recovered.snapshot?.metadata.index).toBe(s);
    expect(recovered.entries.map((e) => e.index)).toEqual(Array.from({ length: 100 - s }, (_, i) => s + 1 + i));
    expect(recovered.hardState).toEqual({ term: 1, vote: 'a', commit: 99 });

    // At the segment's last entry, it goes too.
    await log2.saveSnapshot(snapshot(s + 1, 1));
    await log2.releaseTo(s + 1);
    expect(await walFiles(dir)).toEqual(before.slice(3).map((seg) => seg.file));
    const { log: log3, recovered: r3 } = await reopen(log2, dir, small);
    expect(r3.entries[0]?.index).toBe(s + 2);
    expect(r3.entries.at(-1)?.index).toBe(100);
    await log3.close();
  });

  it('keeps the hard state when the segments that wrote it are released', async () => {
    const dir = await tempDir('hsrelease');
    const { log } = await openRaftLog(dir, small, logger);
    await log.save({ term: 7, vote: 'node-c', commit: 0 }, [], true);
    for (let i = 1; i <= 60; i++) await log.save(undefined, [entry(i, 7, 256)], true);
    await log.saveSnapshot(snapshot(60, 7));
    await log.releaseTo(60);
    expect((await walFiles(dir)).length).toBe(1);
    const { log: log2, recovered } = await reopen(log, dir, small);
    expect(recovered.hardState).toEqual({ term: 7, vote: 'node-c', commit: 0 });
    expect(recovered.entries).toEqual([]);
    await log2.save(undefined, [entry(61, 7)], true);
    const { log: log3, recovered: r3 } = await reopen(log2, dir, small);
    expect(ids(r3.entries)).toEqual(['61@7']);
    await log3.close();
  });
});

describe('group commit', () => {
  it('concurrent saves share writes and fdatasyncs and resolve in order', async () => {
    const dir = await tempDir('group');
    const { log } = await openRaftLog(dir, {}, logger);
    const order: number[] = [];
    const saves = [];
    for (let i = 1; i <= 50; i++) saves.push(log.save(undefined, [entry(i, 1)], true).then(() => order.push(i)));
    await Promise.all(saves);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stats = log.stats();
    expect(stats.appends).toBe(50);
    // The first save is written alone; the 49 that queued behind it share the next round.
    expect(stats.writes).toBe(2);
    expect(stats.fsyncs).toBe(2);
    const { log: log2, recovered } = await reopen(log, dir);
    expect(recovered.entries).toHaveLength(50);
    await log2.close();
  });
});
