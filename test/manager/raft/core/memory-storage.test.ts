import { describe, expect, it } from 'vitest';
import { MemoryStorage, bootstrapSnapshot } from '../../../../src/manager/raft/core/index.js';
import { EntryType } from '../../../../src/manager/raft/types.js';
import type { Entry } from '../../../../src/manager/raft/types.js';
import { codeOf } from '../../../support/errors.js';

const conf = { voters: ['a'], learners: [] };
const e = (index: number, term: number, size = 10): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) });

function storage(terms: number[]): MemoryStorage {
  const s = new MemoryStorage(conf);
  s.append(terms.map((t, i) => e(i + 1, t)));
  return s;
}

describe('MemoryStorage', () => {
  it('starts empty with the given configuration', () => {
    const s = new MemoryStorage(conf);
    expect([s.firstIndex(), s.lastIndex(), s.term(0)]).toEqual([1, 0, 0]);
    expect(s.initialState()).toEqual({ hardState: { term: 0, vote: '', commit: 0 }, confState: conf });
  });

  it('append replaces a conflicting suffix and skips entries below the snapshot', () => {
    const s = storage([1, 1, 1, 1]);
    s.append([e(3, 2), e(4, 2), e(5, 2)]);
    expect([1, 2, 3, 4, 5].map((i) => s.term(i))).toEqual([1, 1, 2, 2, 2]);
    s.append([e(2, 3)]);
    expect(s.lastIndex()).toBe(2);
    expect(codeOf(() => s.append([e(9, 3)]))).toBe('INTERNAL');
  });

  it('entries() honours [lo, hi), the byte limit (at least one entry) and the bounds', () => {
    const s = storage([1, 1, 1, 1, 1]);
    expect(s.entries(2, 5, Infinity).map((x) => x.index)).toEqual([2, 3, 4]);
    expect(s.entries(2, 5, 25).map((x) => x.index)).toEqual([2, 3]);
    expect(s.entries(2, 5, 0).map((x) => x.index)).toEqual([2]);
    expect(codeOf(() => s.entries(3, 7, Infinity))).toBe('STORAGE_UNAVAILABLE');
    s.createSnapshot(3, conf, new Uint8Array(0));
    s.compact(3);
    expect(codeOf(() => s.entries(3, 5, Infinity))).toBe('STORAGE_COMPACTED');
    expect(codeOf(() => s.term(2))).toBe('STORAGE_COMPACTED');
    expect(s.term(3)).toBe(1); // the snapshot's term stays known
    expect(codeOf(() => s.term(6))).toBe('STORAGE_UNAVAILABLE');
  });

  it('compact keeps entries after the index and refuses to pass the latest snapshot', () => {
    const s = storage([1, 1, 2, 2, 3]);
    s.createSnapshot(4, conf, new Uint8Array(0));
    expect(codeOf(() => s.compact(5))).toBe('INTERNAL');
    s.compact(2);
    expect([s.firstIndex(), s.lastIndex(), s.term(2)]).toEqual([3, 5, 1]);
    s.compact(4);
    expect([s.firstIndex(), s.lastIndex(), s.term(4), s.term(5)]).toEqual([5, 5, 2, 3]);
    s.compact(1); // already compacted: nothing to do
    expect(s.firstIndex()).toBe(5);
  });

  it('createSnapshot records the term at the index and refuses old or future indexes', () => {
    const s = storage([1, 2, 2]);
    const snap = s.createSnapshot(2, conf, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 2, term: 2, confState: conf });
    expect(s.snapshot()).toBe(snap);
    expect(codeOf(() => s.createSnapshot(2, conf, new Uint8Array(0)))).toBe('STORAGE_SNAPSHOT_OUT_OF_DATE');
    expect(codeOf(() => s.createSnapshot(9, conf, new Uint8Array(0)))).toBe('STORAGE_UNAVAILABLE');
  });

  it('applySnapshot replaces the log; older snapshots are refused', () => {
    const s = storage([1, 1, 1]);
    const snap = { metadata: { index: 10, term: 4, confState: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array(0) };
    s.applySnapshot(snap);
    expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 4]);
    expect(s.initialState().confState).toEqual(snap.metadata.confState);
    expect(codeOf(() => s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 9 } }))).toBe('STORAGE_SNAPSHOT_OUT_OF_DATE');
    s.append([e(11, 4)]);
    expect(s.lastIndex()).toBe(11);
  });

  it('bootstrapSnapshot starts a cluster at index 1 with its first voters', () => {
    const s = new MemoryStorage();
    s.applySnapshot(bootstrapSnapshot(['n1'], new Uint8Array(0)));
    expect([s.firstIndex(), s.lastIndex(), s.term(1)]).toEqual([2, 1, 1]);
    expect(s.initialState().confState).toEqual({ voters: ['n1'], learners: [] });
  });

  it('setHardState is what initialState reports', () => {
    const s = new MemoryStorage();
    s.setHardState({ term: 3, vote: 'b', commit: 0 });
    expect(s.initialState().hardState).toEqual({ term: 3, vote: 'b', commit: 0 });
  });

  it('appending many entries one batch at a time stays linear', () => {
    const s = new MemoryStorage(conf);
    const batch = 1000;
    for (let b = 0; b < 200; b++) s.append(Array.from({ length: batch }, (_, i) => e(b * batch + i + 1, 1, 0)));
    expect(s.lastIndex()).toBe(200_000);
  });
});
