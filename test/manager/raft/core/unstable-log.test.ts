import { describe, expect, it } from 'vitest';
import { UnstableLog } from '../../../../src/manager/raft/core/unstable-log.js';
import { EntryType } from '../../../../src/manager/raft/types.js';
import type { Entry, Snapshot } from '../../../../src/manager/raft/types.js';

const e = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(0) });
const snap = (index: number, term: number): Snapshot => ({ metadata: { index, term, confState: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
const indexes = (u: UnstableLog): number[] => u.entries.map((x) => x.index);

describe('UnstableLog', () => {
  it('knows terms of its entries and of its snapshot, nothing else', () => {
    const u = new UnstableLog(4);
    u.restore(snap(4, 2));
    u.truncateAndAppend([e(5, 3), e(6, 3)]);
    expect([u.maybeTerm(4), u.maybeTerm(5), u.maybeTerm(6), u.maybeTerm(3), u.maybeTerm(7)]).toEqual([2, 3, 3, undefined, undefined]);
    expect([u.maybeFirstIndex(), u.maybeLastIndex()]).toEqual([5, 6]);
  });

  it.each([
    { name: 'appends after the end', existing: [5, 6], append: [[7, 1]], want: [5, 6, 7], offset: 5 },
    { name: 'truncates inside and appends', existing: [5, 6, 7], append: [[6, 2]], want: [5, 6], offset: 5 },
    { name: 'replaces from before the offset', existing: [5, 6], append: [[4, 2], [5, 2]], want: [4, 5], offset: 4 },
  ])('truncateAndAppend $name', ({ existing, append, want, offset }) => {
    const u = new UnstableLog(4);
    u.truncateAndAppend(existing.map((i) => e(i, 1)));
    u.truncateAndAppend(append.map(([i, t]) => e(i!, t!)));
    expect(indexes(u)).toEqual(want);
    expect(u.offset).toBe(offset);
  });

  it('refuses a gap', () => {
    const u = new UnstableLog(4);
    expect(() => u.truncateAndAppend([e(7, 1)])).toThrow();
  });

  it('entries handed out in a Ready are not handed out again, but are re-sent if replaced', () => {
    const u = new UnstableLog(0);
    u.truncateAndAppend([e(1, 1), e(2, 1), e(3, 1)]);
    expect(u.nextEntries().map((x) => x.index)).toEqual([1, 2, 3]);
    u.acceptInProgress();
    expect(u.hasNextEntries()).toBe(false);
    u.truncateAndAppend([e(4, 1)]);
    expect(u.nextEntries().map((x) => x.index)).toEqual([4]);
    u.truncateAndAppend([e(2, 2)]);
    expect(u.nextEntries().map((x) => [x.index, x.term])).toEqual([[2, 2]]);
  });

  it('stableTo drops persisted entries unless the entry was replaced since', () => {
    const u = new UnstableLog(0);
    u.truncateAndAppend([e(1, 1), e(2, 1), e(3, 1)]);
    u.stableTo(2, 1);
    expect(indexes(u)).toEqual([3]);
    expect(u.offset).toBe(3);
    u.stableTo(3, 9); // term differs: that entry was replaced, keep it
    expect(indexes(u)).toEqual([3]);
    u.stableTo(1, 1); // already stable
    expect(u.offset).toBe(3);
  });

  it('a snapshot is handed out once and dropped when persisted', () => {
    const u = new UnstableLog(0);
    u.restore(snap(10, 3));
    expect(u.hasNextSnapshot()).toBe(true);
    u.acceptInProgress();
    expect(u.hasNextSnapshot()).toBe(false);
    u.stableSnapTo(9);
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(10);
    expect(u.snapshot).toBeUndefined();
    expect(u.offset).toBe(11);
  });
});
