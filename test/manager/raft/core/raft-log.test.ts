import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../../../src/manager/raft/core/raft-log.js';
import { MemoryStorage } from '../../../../src/manager/raft/core/index.js';
import { EntryType } from '../../../../src/manager/raft/types.js';
import type { Entry } from '../../../../src/manager/raft/types.js';

const conf = { voters: ['a'], learners: [] };
const e = (index: number, term: number, size = 0): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) });

/** Entries 1..stable.length in storage, the rest unstable. */
function log(stable: number[], unstable: number[] = []): RaftLog {
  const s = new MemoryStorage(conf);
  s.append(stable.map((t, i) => e(i + 1, t, 10)));
  const l = new RaftLog(s, Infinity);
  l.append(unstable.map((t, i) => e(stable.length + i + 1, t, 10)));
  return l;
}

describe('RaftLog', () => {
  it('reads terms and slices across storage and the unstable part', () => {
    const l = log([1, 1, 2], [2, 3]);
    expect([1, 2, 3, 4, 5].map((i) => l.term(i))).toEqual([1, 1, 2, 2, 3]);
    expect(l.slice(2, 6, Infinity).map((x) => x.index)).toEqual([2, 3, 4, 5]);
    expect(l.slice(2, 6, 25).map((x) => x.index)).toEqual([2, 3]);
    expect(l.slice(3, 6, 25).map((x) => x.index)).toEqual([3, 4]);
    expect(l.slice(4, 6, 0).map((x) => x.index)).toEqual([4]);
    expect(l.maybeTerm(6)).toBeUndefined();
    expect([l.lastIndex(), l.lastTerm()]).toEqual([5, 3]);
  });

  it.each([
    { name: 'all new', ents: [[4, 2]], conflict: 4 },
    { name: 'all present', ents: [[2, 1], [3, 2]], conflict: 0 },
    { name: 'conflict in the middle', ents: [[2, 1], [3, 5]], conflict: 3 },
    { name: 'present then new', ents: [[3, 2], [4, 2]], conflict: 4 },
  ])('findConflict: $name', ({ ents, conflict }) => {
    const l = log([1, 1, 2]);
    expect(l.findConflict(ents.map(([i, t]) => e(i!, t!)))).toBe(conflict);
  });

  it.each([
    { index: 6, term: 4, want: 6 },
    { index: 6, term: 3, want: 5 },
    { index: 6, term: 2, want: 3 },
    { index: 6, term: 1, want: 2 },
    { index: 6, term: 0, want: 0 },
    { index: 9, term: 9, want: 6 },
  ])('findConflictByTerm($index, $term) = $want', ({ index, term, want }) => {
    const l = log([1, 1, 2, 3, 3, 4]);
    expect(l.findConflictByTerm(index, term).index).toBe(want);
  });

  it('maybeAppend appends after a matching entry, truncates conflicts and advances commit', () => {
    const l = log([1, 1, 1]);
    expect(l.maybeAppend(3, 2, 3, [e(4, 2)])).toBeUndefined(); // prev term mismatch
    expect(l.maybeAppend(2, 1, 9, [e(3, 2), e(4, 2)])).toBe(4);
    expect([l.term(3), l.lastIndex(), l.committed]).toEqual([2, 4, 4]);
  });

  it('refuses to overwrite committed entries', () => {
    const l = log([1, 1, 1]);
    l.commitTo(2);
    expect(() => l.maybeAppend(1, 1, 2, [e(2, 5)])).toThrow();
  });

  it('hands committed entries out only once they are stable, within the byte limit', () => {
    const s = new MemoryStorage(conf);
    s.append([1, 2, 3].map((i) => e(i, 1, 10)));
    const l = new RaftLog(s, 15);
    l.append([e(4, 1, 10)]);
    l.commitTo(4);
    expect(l.nextCommittedEntries().map((x) => x.index)).toEqual([1]);
    expect(l.nextCommittedEntries().map((x) => x.index)).toEqual([2]);
    expect(l.nextCommittedEntries().map((x) => x.index)).toEqual([3]);
    expect(l.hasNextCommittedEntries()).toBe(false); // 4 is committed but not persisted
    s.append([e(4, 1, 10)]);
    l.unstable.stableTo(4, 1);
    expect(l.nextCommittedEntries().map((x) => x.index)).toEqual([4]);
  });

  it('isUpToDate compares last term, then length (§5.4.1)', () => {
    const l = log([1, 2, 2]);
    expect(l.isUpToDate(3, 2)).toBe(true);
    expect(l.isUpToDate(2, 2)).toBe(false);
    expect(l.isUpToDate(1, 3)).toBe(true);
    expect(l.isUpToDate(10, 1)).toBe(false);
  });

  it('copes with entries disappearing below firstIndex (compaction by the driver)', () => {
    const s = new MemoryStorage(conf);
    s.append([1, 2, 3, 4, 5].map((i) => e(i, 1)));
    const l = new RaftLog(s, Infinity);
    l.commitTo(5);
    s.createSnapshot(4, conf, new Uint8Array(0));
    s.compact(4);
    expect(l.firstIndex()).toBe(5);
    expect(l.maybeTerm(3)).toBeUndefined();
    expect(l.term(4)).toBe(1);
    expect(() => l.slice(3, 5, Infinity)).toThrow(expect.objectContaining({ code: 'STORAGE_COMPACTED' }));
  });
});
