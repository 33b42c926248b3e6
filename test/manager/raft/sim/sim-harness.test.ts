import { describe, expect, it } from 'vitest';
import { EntryType, type Entry } from '../../../../src/manager/raft/types.js';
import { textBytes } from './hash-chain.js';
import { InvariantChecker, InvariantViolation, type InvariantName } from './invariant-checker.js';
import { runSeed } from './run-seed.js';
import { SimDisk } from './sim-disk.js';

/** The simulator is only worth its seeds if it replays exactly and its checks really bite. */

function entry(index: number, term: number, data = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: textBytes(data) };
}

function violationOf(fn: () => void): InvariantName | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvariantViolation) return err.invariant;
    throw err;
  }
  return undefined;
}

describe('simulator harness', () => {
  it('replays a seed exactly: same steps, same events, same outcome', () => {
    const first = runSeed(4242, { chaosTicks: 60 });
    const second = runSeed(4242, { chaosTicks: 60 });
    expect(second.steps).toBe(first.steps);
    expect(second.stats).toEqual(first.stats);
    expect(second.maxApplied).toBe(first.maxApplied);
    expect(first.steps).toBeGreaterThan(100);
  });

  it('models fsync: a crash loses hard state written since the last sync, and only that', () => {
    const disk = new SimDisk();
    disk.writeEntries([entry(1, 1), entry(2, 1), entry(3, 1)]);
    disk.writeHardState({ term: 1, vote: 'n1', commit: 1 });
    disk.sync();
    disk.writeHardState({ term: 1, vote: 'n1', commit: 2 }); // commit-only: not fsynced
    disk.loseUnsyncedWrites();
    expect(disk.hardState.commit).toBe(1);
    disk.writeHardState({ term: 1, vote: 'n1', commit: 3 });
    disk.sync(); // a later fsync (say, for new entries) covers the earlier record too
    disk.loseUnsyncedWrites();
    expect(disk.hardState.commit).toBe(3);
    expect(disk.durableCommit()).toBe(3);
  });

  it('flags two leaders in one term', () => {
    const checker = new InvariantChecker(() => []);
    const disk = new SimDisk();
    checker.observeRole('n1', 3, 'leader', disk);
    expect(violationOf(() => checker.observeRole('n1', 3, 'leader', disk))).toBeUndefined();
    expect(violationOf(() => checker.observeRole('n2', 3, 'leader', disk))).toBe('election safety');
  });

  it('flags two logs that hold the same (index, term) over different prefixes', () => {
    const checker = new InvariantChecker(() => []);
    const a = new SimDisk();
    const b = new SimDisk();
    checker.observeWritten('n1', a.writeEntries([entry(1, 1), entry(2, 2)]));
    expect(violationOf(() => checker.observeWritten('n2', b.writeEntries([entry(1, 1), entry(2, 2)])))).toBeUndefined();
    const c = new SimDisk();
    expect(violationOf(() => checker.observeWritten('n3', c.writeEntries([entry(1, 1, 'other'), entry(2, 2)])))).toBe(
      'log matching',
    );
  });

  it('flags a vote changed within a term and a commit that goes back', () => {
    const checker = new InvariantChecker(() => []);
    const disk = new SimDisk();
    disk.writeEntries([entry(1, 1), entry(2, 1)]);
    const voted = { term: 2, vote: 'n1', commit: 1 };
    expect(violationOf(() => checker.observeHardState('n3', voted, { term: 2, vote: 'n2', commit: 1 }, disk))).toBe(
      'hard state safety',
    );
    expect(violationOf(() => checker.observeHardState('n3', voted, { term: 2, vote: 'n1', commit: 0 }, disk))).toBe(
      'hard state safety',
    );
    expect(violationOf(() => checker.observeHardState('n3', voted, { term: 3, vote: 'n2', commit: 2 }, disk))).toBeUndefined();
  });

  it('flags a leader that lacks an entry committed in an earlier term', () => {
    const follower = new SimDisk();
    follower.writeEntries([entry(1, 1), entry(2, 2)]);
    follower.writeHardState({ term: 2, vote: 'n1', commit: 2 });
    const staleLeader = new SimDisk();
    staleLeader.writeEntries([entry(1, 1)]);
    const checker = new InvariantChecker(() => []);
    checker.observeHardState('n2', { term: 0, vote: '', commit: 0 }, follower.hardState, follower);
    expect(violationOf(() => checker.observeRole('n3', 3, 'leader', staleLeader))).toBe('leader completeness');
    // A leader of the very term that committed it is not bound (it may be a slow election's winner).
    expect(violationOf(() => checker.observeRole('n4', 2, 'leader', staleLeader))).toBeUndefined();
  });

  it('flags state machines that applied different entries at an index, and gaps', () => {
    const checker = new InvariantChecker(() => []);
    checker.observeApply('n1', 1, 1, 'a', 111, 0);
    expect(violationOf(() => checker.observeApply('n2', 1, 1, 'b', 222, 0))).toBe('state machine safety');
    expect(violationOf(() => checker.observeApply('n2', 3, 1, 'c', 333, 1))).toBe('applied order');
  });

  it('flags an accepted proposal applied with other data, and a stale read', () => {
    const checker = new InvariantChecker(() => []);
    checker.observeProposal(5, 2, 'mine');
    expect(violationOf(() => checker.observeApply('n1', 5, 2, 'theirs', 1, 4))).toBe('durability');
    checker.observeApply('n2', 1, 1, 'x', 10, 0);
    checker.observeApply('n2', 2, 1, 'y', 20, 1);
    checker.readRequested('n2', 'r1');
    expect(violationOf(() => checker.observeReadState('n2', { index: 1, context: textBytes('r1') }, 'r1'))).toBe(
      'read linearizability',
    );
    expect(violationOf(() => checker.observeReadState('n2', { index: 2, context: textBytes('r1') }, 'r1'))).toBeUndefined();
  });
});
