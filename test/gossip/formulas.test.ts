import { describe, expect, it } from 'vitest';
import { pushPullInterval, retransmitLimit, scaledByAwareness, suspicionMinTimeout, suspicionTimeout } from '../../src/gossip/core/formulas.js';

describe('gossip formulas', () => {
  it.each([
    [4, 1, 4],
    [4, 9, 4],
    [4, 10, 8],
    [4, 99, 8],
    [4, 100, 12],
    [4, 1000, 16],
  ])('retransmitLimit(mult %i, %i members) = %i', (mult, n, want) => {
    expect(retransmitLimit(mult, n)).toBe(want);
  });

  it.each([
    [1, 1, 1000, 1000],
    [1, 10, 1000, 1000],
    [1, 100, 1000, 2000],
    [1, 1000, 1000, 3000],
    [4, 100, 1000, 8000],
  ])('suspicionMinTimeout(mult %i, %i members, %i ms) = %i', (mult, n, interval, want) => {
    expect(suspicionMinTimeout(mult, n, interval)).toBe(want);
  });

  it.each([
    // Lifeguard: from max with no confirmation down to min at k confirmations.
    [0, 3, 2000, 12000, 12000],
    [1, 3, 2000, 12000, 7000],
    [2, 3, 2000, 12000, 4075],
    [3, 3, 2000, 12000, 2000],
    [5, 3, 2000, 12000, 2000],
    [0, 0, 2000, 12000, 2000],
  ])('suspicionTimeout(%i of %i confirmations, %i..%i) = %i', (c, k, min, max, want) => {
    expect(suspicionTimeout(c, k, min, max)).toBe(want);
  });

  it.each([
    [30000, 10, 30000],
    [30000, 32, 30000],
    [30000, 64, 60000],
    [30000, 1000, 180000],
  ])('pushPullInterval(%i ms, %i members) = %i', (base, n, want) => {
    expect(pushPullInterval(base, n)).toBe(want);
  });

  it('awareness scales by score + 1', () => {
    expect(scaledByAwareness(500, 0)).toBe(500);
    expect(scaledByAwareness(500, 7)).toBe(4000);
  });
});
