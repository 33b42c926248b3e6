import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { committedIndex, quorumActive, voteResult } from '../../../../src/manager/raft/core/quorum.js';

/** The definition, spelled out: the largest index that at least a majority have matched. */
function naiveCommitted(matches: readonly number[]): number {
  if (matches.length === 0) return 0;
  const majority = Math.floor(matches.length / 2) + 1;
  let best = 0;
  for (const candidate of matches) {
    const holders = matches.filter((m) => m >= candidate).length;
    if (holders >= majority && candidate > best) best = candidate;
  }
  return best;
}

function naiveVote(n: number, granted: number, rejected: number): 'won' | 'lost' | 'pending' {
  const majority = Math.floor(n / 2) + 1;
  if (granted >= majority) return 'won';
  // Lost when even every outstanding voter granting would not reach a majority.
  if (granted + (n - granted - rejected) < majority) return 'lost';
  return 'pending';
}

describe('quorum', () => {
  it.each([
    { matches: [5], expected: 5 },
    { matches: [5, 1], expected: 1 },
    { matches: [5, 4, 1], expected: 4 },
    { matches: [1, 5, 4], expected: 4 },
    { matches: [5, 4, 3, 1], expected: 3 },
    { matches: [9, 9, 0, 0, 0], expected: 0 },
    { matches: [9, 9, 7, 0, 0], expected: 7 },
    { matches: [], expected: 0 },
  ])('committed index of matches $matches is $expected', ({ matches, expected }) => {
    const ids = matches.map((_, i) => `n${i}`);
    expect(committedIndex(ids, (id) => matches[Number(id.slice(1))]!)).toBe(expected);
  });

  it('committed index equals the naive majority definition for any matches', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 0, maxLength: 9 }), (matches) => {
        const ids = matches.map((_, i) => `n${i}`);
        return committedIndex(ids, (id) => matches[Number(id.slice(1))]!) === naiveCommitted(matches);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('vote result equals the naive definition for any votes', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 9 }), (votes) => {
        const ids = votes.map((_, i) => `n${i}`);
        const map = new Map<string, boolean>();
        votes.forEach((v, i) => v !== undefined && map.set(`n${i}`, v));
        const granted = votes.filter((v) => v === true).length;
        const rejected = votes.filter((v) => v === false).length;
        return voteResult(ids, map) === naiveVote(votes.length, granted, rejected);
      }),
      { numRuns: 2000, seed: 43 },
    );
  });

  it('votes of non-voters do not count', () => {
    expect(voteResult(['a', 'b', 'c'], new Map([['a', true], ['x', true], ['y', true]]))).toBe('pending');
  });

  it.each([
    { active: ['a'], n: 3, expected: false },
    { active: ['a', 'b'], n: 3, expected: true },
    { active: ['a', 'b'], n: 4, expected: false },
    { active: ['a', 'b', 'c'], n: 5, expected: true },
  ])('quorumActive with $active active of $n', ({ active, n, expected }) => {
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, n);
    expect(quorumActive(ids, (id) => active.includes(id))).toBe(expected);
  });
});
