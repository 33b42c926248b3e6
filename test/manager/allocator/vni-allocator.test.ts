import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { MAX_VNI, VniAllocator, type VniState } from '../../../src/manager/allocator/vni-allocator.js';
import { thrown } from './helpers.js';

const swarmRange = { min: 4096, max: MAX_VNI };

describe('VniAllocator', () => {
  it('gives ingress 4096 and the first user network 4097, as Docker Swarm', () => {
    const vnis = new VniAllocator(swarmRange);
    expect(vnis.allocate('ingress')).toBe(4096);
    expect(vnis.allocate('web')).toBe(4097);
    expect(vnis.vniOf('web')).toBe(4097);
    expect(vnis.size).toBe(2);
  });

  it('keeps a network\'s VNI on a retried allocation, and refuses to change it', () => {
    const vnis = new VniAllocator(swarmRange);
    expect(vnis.allocate('web')).toBe(4096);
    expect(vnis.allocate('web')).toBe(4096);
    expect(vnis.allocate('web', 4096)).toBe(4096);
    expect(thrown(() => vnis.allocate('web', 5000)).code).toBe('IPAM_INVALID');
  });

  it('does not reuse a released VNI until the range wraps around', () => {
    const vnis = new VniAllocator({ min: 10, max: 13 });
    expect(vnis.allocate('a')).toBe(10);
    expect(vnis.allocate('b')).toBe(11);
    expect(vnis.release('a')).toBe(10);
    expect(vnis.release('a')).toBeUndefined();
    expect(vnis.allocate('c')).toBe(12);
    expect(vnis.allocate('d')).toBe(13);
    expect(vnis.allocate('e')).toBe(10);
    const err = thrown(() => vnis.allocate('f'));
    expect(err.code).toBe('IPAM_VNI_EXHAUSTED');
    expect(err.details).toMatchObject({ min: 10, max: 13 });
  });

  it.each([
    { name: 'in use', requested: 4096, code: 'IPAM_VNI_IN_USE' },
    { name: 'below the range', requested: 4095, code: 'IPAM_INVALID' },
    { name: 'above 24 bits', requested: MAX_VNI + 1, code: 'IPAM_INVALID' },
    { name: 'not an integer', requested: 5000.5, code: 'IPAM_INVALID' },
  ])('refuses a requested VNI that is $name', ({ requested, code }) => {
    const vnis = new VniAllocator(swarmRange);
    vnis.allocate('ingress');
    const err = thrown(() => vnis.allocate('x', requested));
    expect(err.code).toBe(code);
    expect(vnis.vniOf('x')).toBeUndefined();
  });

  it.each([
    { min: 0, max: 100 },
    { min: 100, max: 99 },
    { min: 1, max: MAX_VNI + 1 },
  ])('refuses the range $min-$max', (range) => {
    expect(thrown(() => new VniAllocator(range)).code).toBe('IPAM_INVALID');
  });

  it('restores from assignments alone, resuming after the highest ID', () => {
    const vnis = VniAllocator.restore(swarmRange, { assignments: [{ network: 'a', vni: 4200 }, { network: 'b', vni: 4100 }] });
    expect(vnis.allocate('c')).toBe(4201);
    expect(vnis.allocate('d', 4096)).toBe(4096);
  });

  const op = fc.oneof(
    fc.record({ kind: fc.constant('alloc' as const), net: fc.integer({ min: 0, max: 9 }), want: fc.option(fc.integer({ min: 98, max: 108 }), { freq: 3 }) }),
    fc.record({ kind: fc.constant('release' as const), net: fc.integer({ min: 0, max: 9 }) }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  const apply = (vnis: VniAllocator, o: Op): unknown => {
    try {
      return o.kind === 'alloc' ? vnis.allocate(`n${o.net}`, o.want ?? undefined) : vnis.release(`n${o.net}`);
    } catch (err) {
      if (isTsswarmError(err)) return err.code;
      throw err;
    }
  };

  it('assigned VNIs are unique and in range, and restore(serialize()) behaves as the original', () => {
    const range = { min: 100, max: 106 };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), fc.array(op, { maxLength: 30 }), (before, after) => {
        const vnis = new VniAllocator(range);
        for (const o of before) apply(vnis, o);
        const { assignments } = vnis.serialize();
        const ids = assignments.map((a) => a.vni);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) expect(id >= range.min && id <= range.max).toBe(true);
        const restored = VniAllocator.restore(range, JSON.parse(JSON.stringify(vnis.serialize())) as VniState);
        expect(restored.serialize()).toEqual(vnis.serialize());
        for (const o of after) expect(apply(restored, o)).toEqual(apply(vnis, o));
      }),
      { numRuns: 300 },
    );
  });
});
