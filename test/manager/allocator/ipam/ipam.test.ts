import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../../src/errors/index.js';
import { cidrOverlaps, parseCidr } from '../../../../src/manager/allocator/ipam/cidr.js';
import { Ipam } from '../../../../src/manager/allocator/ipam/ipam.js';
import type { IpamState } from '../../../../src/manager/allocator/ipam/ipam-state.js';
import { parsePoolConfig } from '../../../../src/manager/allocator/ipam/subnet-pool.js';
import { thrown } from '../helpers.js';

const defaults = parsePoolConfig(['10.0.0.0/8'], 24);

describe('Ipam', () => {
  it('gives networks without --subnet consecutive pool subnets, and explicit ones what they ask', () => {
    const ipam = new Ipam(defaults);
    expect(ipam.createNetwork({ id: 'ingress' })).toEqual({ id: 'ingress', subnet: '10.0.0.0/24', gateway: '10.0.0.1', capacity: 253, allocated: 0 });
    expect(ipam.createNetwork({ id: 'big', subnet: '10.10.0.0/16', gateway: '10.10.255.254', ipRange: '10.10.4.0/22' })).toEqual({
      id: 'big',
      subnet: '10.10.0.0/16',
      gateway: '10.10.255.254',
      ipRange: '10.10.4.0/22',
      capacity: 1024,
      allocated: 0,
    });
    expect(ipam.createNetwork({ id: 'web' }).subnet).toBe('10.0.1.0/24');
    expect(ipam.allocateAddress('web')).toBe('10.0.1.2');
    expect(ipam.allocateAddress('big')).toBe('10.10.4.0');
    expect(ipam.allocateAddress('big', '10.10.0.9')).toBe('10.10.0.9');
    expect(ipam.network('big')?.allocated).toBe(2);
    expect(ipam.isAllocated('big', '10.10.0.9')).toBe(true);
  });

  it('frees a removed network\'s subnet for the next network', () => {
    const ipam = new Ipam(defaults);
    ipam.createNetwork({ id: 'a' });
    ipam.createNetwork({ id: 'b' });
    expect(ipam.removeNetwork('a')).toBe(true);
    expect(ipam.removeNetwork('a')).toBe(false);
    expect(ipam.network('a')).toBeUndefined();
    expect(ipam.createNetwork({ id: 'c' }).subnet).toBe('10.0.0.0/24');
  });

  it.each([
    { name: 'an overlapping --subnet', req: { id: 'x', subnet: '10.0.0.128/25' }, code: 'IPAM_SUBNET_OVERLAP' },
    { name: 'a --subnet over a host route (moby#50011)', req: { id: 'x', subnet: '192.168.1.0/24' }, code: 'IPAM_SUBNET_OVERLAP' },
    { name: '--gateway without --subnet', req: { id: 'x', gateway: '10.0.5.1' }, code: 'IPAM_INVALID' },
    { name: '--ip-range without --subnet', req: { id: 'x', ipRange: '10.0.5.0/25' }, code: 'IPAM_INVALID' },
    { name: 'a --gateway outside --subnet', req: { id: 'x', subnet: '10.5.0.0/24', gateway: '10.6.0.1' }, code: 'IPAM_INVALID' },
    { name: 'an --ip-range outside --subnet', req: { id: 'x', subnet: '10.5.0.0/24', ipRange: '10.6.0.0/24' }, code: 'IPAM_INVALID' },
    { name: 'a malformed --subnet', req: { id: 'x', subnet: '10.5.0/24' }, code: 'IPAM_INVALID' },
    { name: 'an ID already allocated', req: { id: 'ingress' }, code: 'INTERNAL' },
  ])('refuses $name and changes nothing', ({ req, code }) => {
    const ipam = new Ipam(defaults);
    ipam.createNetwork({ id: 'ingress' });
    ipam.setHostRoutes(['192.168.0.0/16']);
    const before = ipam.serialize();
    expect(thrown(() => ipam.createNetwork(req)).code).toBe(code);
    expect(ipam.serialize()).toEqual(before);
  });

  it('chooses pool subnets around the hosts\' routes', () => {
    const ipam = new Ipam(defaults);
    ipam.setHostRoutes(['10.0.0.0/23', '0.0.0.0/0']);
    expect(ipam.createNetwork({ id: 'a' }).subnet).toBe('10.0.2.0/24');
  });

  it('names the network and its size when it runs out, and suggests a larger subnet', () => {
    const ipam = new Ipam(defaults);
    ipam.createNetwork({ id: 'n1', name: 'small', subnet: '10.9.0.0/29' });
    for (let i = 0; i < 5; i++) ipam.allocateAddress('n1');
    const err = thrown(() => ipam.allocateAddress('n1'));
    expect(err.code).toBe('IPAM_ADDRESSES_EXHAUSTED');
    expect(err.message).toBe(
      'network small (10.9.0.0/29) has no free address left, all 5 usable addresses of the range are allocated, ' +
        'remove tasks or services from the network, or recreate it with a larger --subnet, e.g. a /27 (29 usable addresses)',
    );
  });

  it('reports existing networks that a newly learned host route overlaps', () => {
    const ipam = new Ipam(defaults);
    ipam.createNetwork({ id: 'a' });
    ipam.createNetwork({ id: 'b' });
    expect(ipam.routeConflicts()).toEqual([]);
    ipam.setHostRoutes(['10.0.1.0/25', '172.16.0.0/12']);
    expect(ipam.routeConflicts()).toEqual([{ network: 'b', subnet: '10.0.1.0/24', route: '10.0.1.0/25' }]);
  });

  it('throws IPAM_UNKNOWN_NETWORK for a network it does not hold', () => {
    const ipam = new Ipam(defaults);
    expect(thrown(() => ipam.allocateAddress('nope')).code).toBe('IPAM_UNKNOWN_NETWORK');
    expect(thrown(() => ipam.releaseAddress('nope', '10.0.0.2')).code).toBe('IPAM_UNKNOWN_NETWORK');
  });

  it('restores from networks and addresses alone, resuming after the highest address', () => {
    const state: IpamState = {
      networks: [
        { id: 'b', subnet: '10.0.1.0/24', gateway: '10.0.1.1', addresses: ['10.0.1.2', '10.0.1.9'] },
        { id: 'a', name: 'ingress', subnet: '10.0.0.0/24', gateway: '10.0.0.1', addresses: [] },
      ],
    };
    const ipam = Ipam.restore(defaults, state);
    expect(ipam.allocateAddress('b')).toBe('10.0.1.10');
    expect(ipam.allocateAddress('a')).toBe('10.0.0.2');
    expect(ipam.createNetwork({ id: 'c' }).subnet).toBe('10.0.2.0/24');
    expect(ipam.serialize().networks.map((n) => n.id)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    { name: 'overlapping networks', nets: [['a', '10.0.0.0/24'], ['b', '10.0.0.0/16']], code: 'IPAM_SUBNET_OVERLAP' },
    { name: 'an address outside its subnet', nets: [['a', '10.0.0.0/24', '10.0.1.5']], code: 'IPAM_INVALID' },
    { name: 'an address twice', nets: [['a', '10.0.0.0/24', '10.0.0.5', '10.0.0.5']], code: 'IPAM_ADDRESS_IN_USE' },
  ])('refuses to restore $name', ({ nets, code }) => {
    const state: IpamState = {
      networks: nets.map(([id, subnet, ...addresses]) => ({ id: id!, subnet: subnet!, gateway: subnet!.replace(/0\/\d+$/, '1'), addresses })),
    };
    expect(thrown(() => Ipam.restore(defaults, state)).code).toBe(code);
  });

  // ---- property: serialize / restore equivalence --------------------------------------------

  // A tiny pool (four /28s of 13 task addresses) so that sequences hit exhaustion and reuse.
  const small = parsePoolConfig(['10.0.0.0/26'], 28);
  type Op =
    | { kind: 'create'; net: number; explicit: number | null }
    | { kind: 'remove'; net: number }
    | { kind: 'alloc'; net: number; want: number | null }
    | { kind: 'release'; net: number; pick: number };
  const net = fc.integer({ min: 0, max: 4 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('create' as const), net, explicit: fc.option(fc.integer({ min: 0, max: 7 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), net }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('alloc' as const), net, want: fc.option(fc.integer({ min: 0, max: 15 }), { freq: 4 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), net, pick: fc.nat() }) },
  );

  /** Applies one operation; returns its outcome (a value or an error code) for comparison. */
  function apply(ipam: Ipam, o: Op): unknown {
    const id = `net${o.net}`;
    try {
      switch (o.kind) {
        case 'create':
          return ipam.createNetwork(o.explicit === null ? { id } : { id, subnet: `10.0.${o.explicit}.0/28` });
        case 'remove':
          return ipam.removeNetwork(id);
        case 'alloc': {
          const subnet = ipam.network(id)?.subnet.split('/')[0] ?? '10.0.0.0';
          const base = subnet.split('.').map(Number);
          return ipam.allocateAddress(id, o.want === null ? undefined : `10.0.${base[2]}.${base[3]! + o.want}`);
        }
        case 'release': {
          const held = ipam.serialize().networks.find((n) => n.id === id)?.addresses ?? [];
          return ipam.releaseAddress(id, held.length === 0 ? '10.0.0.2' : held[o.pick % held.length]!);
        }
      }
    } catch (err) {
      if (isTsswarmError(err)) return err.code;
      throw err;
    }
  }

  it('restore(serialize()) through JSON behaves exactly as the original', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60, size: 'medium' }), fc.array(op, { maxLength: 40, size: 'medium' }), fc.array(fc.constantFrom('10.0.0.32/28', '10.0.0.0/30')), (before, after, routes) => {
        const original = new Ipam(small);
        original.setHostRoutes(routes);
        for (const o of before) apply(original, o);
        const state = JSON.parse(JSON.stringify(original.serialize())) as IpamState;
        const restored = Ipam.restore(small, state);
        expect(restored.serialize()).toEqual(original.serialize());
        for (const o of after) expect(apply(restored, o)).toEqual(apply(original, o));
        expect(restored.serialize()).toEqual(original.serialize());
      }),
      { numRuns: 300 },
    );
  });

  it('networks never overlap each other, nor a host route known when they were made', () => {
    const route = fc.constantFrom('10.0.0.0/28', '10.0.0.16/28', '10.0.0.32/27', '10.0.1.0/24', '10.0.2.0/28');
    const step = fc.oneof({ weight: 3, arbitrary: op.map((o) => ({ o })) }, { weight: 1, arbitrary: fc.array(route, { maxLength: 2 }).map((r) => ({ r })) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: 'large' }), (steps) => {
        const ipam = new Ipam(small);
        let routes: string[] = [];
        for (const s of steps) {
          if ('r' in s) {
            routes = s.r;
            ipam.setHostRoutes(routes);
            continue;
          }
          const result = apply(ipam, s.o);
          if (s.o.kind === 'create' && typeof result === 'object' && result !== null) {
            const subnet = parseCidr((result as { subnet: string }).subnet);
            for (const r of routes) expect(cidrOverlaps(subnet, parseCidr(r))).toBe(false);
          }
          const subnets = ipam.serialize().networks.map((n) => parseCidr(n.subnet));
          subnets.forEach((a, i) => subnets.slice(i + 1).forEach((b) => expect(cidrOverlaps(a, b)).toBe(false)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('restoring from the networks in any order, without cursors, gives the same networks and addresses', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60, size: 'medium' }), fc.nat(), (before, seed) => {
        const original = new Ipam(small);
        for (const o of before) apply(original, o);
        const state = original.serialize();
        const networks = state.networks.map(({ nextAddress: _, ...rest }) => rest);
        const rotated = [...networks.slice(seed % (networks.length || 1)), ...networks.slice(0, seed % (networks.length || 1))];
        const restored = Ipam.restore(small, { networks: rotated });
        const strip = (s: IpamState) => s.networks.map(({ nextAddress: _, ...rest }) => rest);
        expect(strip(restored.serialize())).toEqual(strip(state));
      }),
      { numRuns: 200 },
    );
  });
});
