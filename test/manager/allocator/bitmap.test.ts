import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitmap, PAGE_BITS } from '../../../src/manager/allocator/bitmap.js';

/** The naive model: a Set of indices and linear scans. */
function naiveFindClear(set: Set<number>, from: number, to: number): number {
  for (let i = from; i < to; i++) if (!set.has(i)) return i;
  return -1;
}

describe('Bitmap', () => {
  it('sets, clears and counts bits, reporting whether each call changed anything', () => {
    const bits = new Bitmap(100);
    expect(bits.set(5)).toBe(true);
    expect(bits.set(5)).toBe(false);
    expect(bits.has(5)).toBe(true);
    expect(bits.count).toBe(1);
    expect(bits.clear(5)).toBe(true);
    expect(bits.clear(5)).toBe(false);
    expect(bits.has(5)).toBe(false);
    expect(bits.count).toBe(0);
  });

  it.each([
    { name: 'negative', index: -1 },
    { name: 'at size', index: 100 },
    { name: 'fraction', index: 1.5 },
  ])('rejects an index that is $name', ({ index }) => {
    const bits = new Bitmap(100);
    expect(() => bits.set(index)).toThrow(RangeError);
    expect(() => bits.has(index)).toThrow(RangeError);
  });

  it('finds clear bits across word and page boundaries', () => {
    const bits = new Bitmap(PAGE_BITS * 3);
    for (let i = 0; i < PAGE_BITS + 40; i++) bits.set(i);
    expect(bits.findClear(0, PAGE_BITS * 3)).toBe(PAGE_BITS + 40);
    expect(bits.findClear(0, PAGE_BITS + 40)).toBe(-1);
    expect(bits.findClear(PAGE_BITS * 2 + 7, PAGE_BITS * 3)).toBe(PAGE_BITS * 2 + 7);
  });

  it('handles the full IPv4 space without allocating it', () => {
    const bits = new Bitmap(2 ** 32);
    expect(bits.set(2 ** 32 - 1)).toBe(true);
    expect(bits.findClear(2 ** 32 - 2, 2 ** 32)).toBe(2 ** 32 - 2);
    expect(bits.findClear(2 ** 32 - 1, 2 ** 32)).toBe(-1);
    expect([...bits.indices()]).toEqual([2 ** 32 - 1]);
  });

  it('rotating search starts at the cursor and wraps to the low end', () => {
    const bits = new Bitmap(16);
    for (const i of [2, 3, 4, 10, 11]) bits.set(i);
    expect(bits.findClearRotating(2, 11, 3)).toBe(5);
    expect(bits.findClearRotating(2, 11, 10)).toBe(5);
    expect(bits.findClearRotating(2, 11, 99)).toBe(5);
    for (let i = 5; i < 10; i++) bits.set(i);
    expect(bits.findClearRotating(2, 11, 7)).toBe(-1);
  });

  it('agrees with a naive Set model under any sequence of operations', () => {
    const size = PAGE_BITS * 2 + 100;
    const index = fc.integer({ min: 0, max: size - 1 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), i: index }),
      fc.record({ kind: fc.constant('clear' as const), i: index }),
      fc.record({ kind: fc.constant('fill' as const), i: index, n: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('find' as const), i: index, j: index }),
      fc.record({ kind: fc.constant('rotate' as const), i: index, j: index, c: index }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const bits = new Bitmap(size);
        const model = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            expect(bits.set(o.i)).toBe(!model.has(o.i));
            model.add(o.i);
          } else if (o.kind === 'clear') expect(bits.clear(o.i)).toBe(model.delete(o.i));
          else if (o.kind === 'fill') {
            for (let k = o.i; k < Math.min(size, o.i + o.n); k++) {
              bits.set(k);
              model.add(k);
            }
          } else if (o.kind === 'find') {
            expect(bits.findClear(o.i, o.j)).toBe(naiveFindClear(model, o.i, o.j));
          } else {
            const lo = Math.min(o.i, o.j);
            const hi = Math.max(o.i, o.j);
            const cursor = o.c < lo || o.c > hi ? lo : o.c;
            let expected = naiveFindClear(model, cursor, hi + 1);
            if (expected < 0) expected = naiveFindClear(model, lo, cursor);
            expect(bits.findClearRotating(lo, hi, o.c)).toBe(expected);
          }
          expect(bits.count).toBe(model.size);
        }
        expect([...bits.indices()]).toEqual([...model].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});
