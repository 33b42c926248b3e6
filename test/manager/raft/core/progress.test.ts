import { describe, expect, it } from 'vitest';
import { Inflights } from '../../../../src/manager/raft/core/inflights.js';
import { Progress } from '../../../../src/manager/raft/core/progress.js';

describe('Inflights', () => {
  it('fills to capacity, frees in order up to an index, and wraps around', () => {
    const inf = new Inflights(3);
    inf.add(5);
    inf.add(7);
    inf.add(9);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(10)).toThrow();
    inf.freeLE(7);
    expect(inf.size).toBe(1);
    inf.add(11);
    inf.add(13); // wraps
    expect(inf.full()).toBe(true);
    inf.freeLE(12);
    expect(inf.size).toBe(1);
    inf.freeLE(100);
    expect(inf.size).toBe(0);
    inf.add(200);
    inf.reset();
    expect(inf.size).toBe(0);
  });

  it('freeing below the oldest frees nothing', () => {
    const inf = new Inflights(4);
    inf.add(10);
    inf.freeLE(9);
    expect(inf.size).toBe(1);
  });
});

describe('Progress', () => {
  it('probe: one App per round trip (paused after sending until an answer)', () => {
    const pr = new Progress(5, 4, false);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(7, true);
    expect(pr.isPaused()).toBe(true);
    expect(pr.next).toBe(5); // probing does not advance next optimistically
    expect(pr.maybeUpdate(7)).toBe(true);
    expect(pr.isPaused()).toBe(false);
  });

  it('replicate: next advances on send and the window limits what is in flight', () => {
    const pr = new Progress(1, 2, false);
    pr.maybeUpdate(4);
    pr.becomeReplicate();
    expect(pr.next).toBe(5);
    pr.sentEntries(6, true);
    pr.sentEntries(8, true);
    expect(pr.next).toBe(9);
    expect(pr.isPaused()).toBe(true);
    pr.maybeUpdate(6);
    pr.inflights.freeLE(6);
    expect(pr.isPaused()).toBe(false);
  });

  it('snapshot: paused until reported; then probes right after the snapshot', () => {
    const pr = new Progress(1, 2, false);
    pr.becomeSnapshot(50);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(51);
    expect(pr.state).toBe('probe');
  });

  it.each([
    { state: 'probe', next: 10, match: 2, rejected: 9, hint: 4, ok: true, newNext: 5 },
    { state: 'probe', next: 10, match: 2, rejected: 7, hint: 4, ok: false, newNext: 10 }, // stale: not our last probe
    { state: 'probe', next: 10, match: 6, rejected: 9, hint: 1, ok: true, newNext: 7 }, // never below match+1
    { state: 'replicate', next: 10, match: 3, rejected: 8, hint: 0, ok: true, newNext: 4 },
    { state: 'replicate', next: 10, match: 3, rejected: 2, hint: 0, ok: false, newNext: 10 }, // stale: already matched
  ])('maybeDecrTo in $state (next $next, match $match, rejected $rejected, hint $hint)', ({ state, next, match, rejected, hint, ok, newNext }) => {
    const pr = new Progress(next, 4, false);
    pr.match = match;
    if (state === 'replicate') {
      pr.state = 'replicate';
      pr.next = next;
    }
    expect(pr.maybeDecrTo(rejected, hint)).toBe(ok);
    expect(pr.next).toBe(newNext);
  });

  it('maybeUpdate ignores stale acks but never lowers next', () => {
    const pr = new Progress(10, 4, false);
    pr.maybeUpdate(8);
    expect(pr.maybeUpdate(5)).toBe(false);
    expect(pr.match).toBe(8);
    expect(pr.next).toBe(10);
  });
});
