import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { certificateValidity, msUntilRenewal, needsRenewal, renewalTime } from '../../../src/manager/ca/index.js';
import { seededRng, type Rng } from '../../../src/util/rng.js';
import { DAY, HOUR, NOW, makeNode, makeRoot } from './ca-fixtures.js';

/** An Rng that returns the given float, to probe the ends of the range. */
function fixedRng(value: number): Rng {
  return { float: () => value, int: (n) => Math.floor(value * n) };
}

describe('renewal policy', () => {
  it('picks a point within [50%, 80%] of the lifetime, for any certificate and Rng state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: HOUR, max: 20 * 365 * DAY }),
        fc.integer(),
        (notBefore, lifetime, seed) => {
          const validity = { notBefore, notAfter: notBefore + lifetime };
          const at = renewalTime(validity, seededRng(seed));
          expect(at).toBeGreaterThanOrEqual(notBefore + Math.floor(lifetime * 0.5));
          expect(at).toBeLessThanOrEqual(notBefore + Math.floor(lifetime * 0.8));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reaches both ends of the range and is reproducible', () => {
    const validity = { notBefore: 0, notAfter: 100 * DAY };
    expect(renewalTime(validity, fixedRng(0))).toBe(50 * DAY);
    expect(renewalTime(validity, fixedRng(0.999999999))).toBe(Math.floor(100 * DAY * (0.5 + 0.999999999 * 0.3)));
    expect(renewalTime(validity, seededRng(7))).toBe(renewalTime(validity, seededRng(7)));
  });

  it('spreads nodes over the window rather than bunching them', () => {
    const validity = { notBefore: 0, notAfter: 90 * DAY };
    const rng = seededRng(42);
    const points = Array.from({ length: 1000 }, () => renewalTime(validity, rng));
    const lowHalf = points.filter((p) => p < 58.5 * DAY).length; // midpoint of [45 d, 72 d]
    expect(lowHalf).toBeGreaterThan(400);
    expect(lowHalf).toBeLessThan(600);
  });

  it('says when a certificate needs renewal, never later than 80%', () => {
    const validity = { notBefore: 0, notAfter: 100 * DAY };
    const renewAt = 60 * DAY;
    expect(needsRenewal(validity, renewAt, 59 * DAY)).toBe(false);
    expect(needsRenewal(validity, renewAt, 60 * DAY)).toBe(true);
    expect(msUntilRenewal(validity, renewAt, 59 * DAY)).toBe(DAY);
    // A renewal time beyond 80% (e.g. chosen for an older, longer certificate) is capped.
    expect(needsRenewal(validity, 95 * DAY, 80 * DAY)).toBe(true);
    expect(msUntilRenewal(validity, 95 * DAY, 79 * DAY)).toBe(DAY);
    expect(msUntilRenewal(validity, renewAt, 99 * DAY)).toBe(0);
  });

  it('reads the validity of a real certificate', async () => {
    const node = await makeNode({ root: await makeRoot() }, 'c1', 'n1', 'swarm-worker');
    const validity = certificateValidity(node.cert);
    expect(validity).toEqual({ notBefore: NOW.getTime() - HOUR, notAfter: NOW.getTime() + 90 * DAY });
    const at = renewalTime(validity, seededRng(1));
    expect(needsRenewal(validity, at, NOW.getTime())).toBe(false);
    expect(needsRenewal(validity, at, NOW.getTime() + 73 * DAY)).toBe(true);
  });
});
