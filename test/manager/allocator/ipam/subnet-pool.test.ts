import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrLast, cidrOf, cidrOverlaps, formatCidr, parseCidr, type Cidr } from '../../../../src/manager/allocator/ipam/cidr.js';
import { parsePoolConfig, SubnetPool } from '../../../../src/manager/allocator/ipam/subnet-pool.js';
import { thrown } from '../helpers.js';

const defaultPool = (): SubnetPool => new SubnetPool(parsePoolConfig(['10.0.0.0/8'], 24));

describe('parsePoolConfig', () => {
  it('accepts several disjoint pools', () => {
    const config = parsePoolConfig(['10.10.0.0/16', '10.20.0.0/16'], 26);
    expect(config.pools.map(formatCidr)).toEqual(['10.10.0.0/16', '10.20.0.0/16']);
    expect(config.maskLength).toBe(26);
  });

  it.each([
    { name: 'no pool', pools: [], mask: 24, detail: /--default-addr-pool/ },
    { name: 'a bad pool', pools: ['10.0.0.1/8'], mask: 24, detail: /--default-addr-pool "10\.0\.0\.1\/8"/ },
    { name: 'a mask shorter than the pool', pools: ['10.0.0.0/16'], mask: 12, detail: /--default-addr-pool-mask-length 12/ },
    { name: 'a mask longer than /30', pools: ['10.0.0.0/8'], mask: 31, detail: /--default-addr-pool-mask-length 31/ },
    { name: 'overlapping pools', pools: ['10.0.0.0/8', '10.1.0.0/16'], mask: 24, detail: /10\.0\.0\.0\/8.*10\.1\.0\.0\/16/ },
  ])('rejects $name with IPAM_INVALID', ({ pools, mask, detail }) => {
    const err = thrown(() => parsePoolConfig(pools, mask));
    expect(err.code).toBe('IPAM_INVALID');
    expect(err.details['detail']).toMatch(detail);
  });
});

describe('SubnetPool', () => {
  it('carves the default pool into /24s in order: ingress gets 10.0.0.0/24', () => {
    const pool = defaultPool();
    expect(formatCidr(pool.allocate('ingress', 'ingress'))).toBe('10.0.0.0/24');
    expect(formatCidr(pool.allocate('net1', 'net1'))).toBe('10.0.1.0/24');
    expect(formatCidr(pool.allocate('net2', 'net2'))).toBe('10.0.2.0/24');
  });

  it('skips explicit subnets and host routes, and reuses a released subnet', () => {
    const pool = defaultPool();
    pool.claim('explicit', 'explicit', parseCidr('10.0.0.0/23'));
    pool.setHostRoutes([parseCidr('10.0.2.0/24'), parseCidr('10.0.3.128/25'), parseCidr('0.0.0.0/0')]);
    expect(formatCidr(pool.allocate('a', 'a'))).toBe('10.0.4.0/24');
    expect(formatCidr(pool.allocate('b', 'b'))).toBe('10.0.5.0/24');
    expect(pool.release('a')).toBe(true);
    expect(pool.release('a')).toBe(false);
    expect(formatCidr(pool.allocate('c', 'c'))).toBe('10.0.4.0/24');
  });

  it('moves to the next pool when the first is full', () => {
    const pool = new SubnetPool(parsePoolConfig(['10.1.0.0/23', '172.30.0.0/16'], 24));
    expect(formatCidr(pool.allocate('a', 'a'))).toBe('10.1.0.0/24');
    expect(formatCidr(pool.allocate('b', 'b'))).toBe('10.1.1.0/24');
    expect(formatCidr(pool.allocate('c', 'c'))).toBe('172.30.0.0/24');
  });

  it('throws IPAM_POOL_EXHAUSTED naming the mask and the pools', () => {
    const pool = new SubnetPool(parsePoolConfig(['10.1.0.0/23'], 24));
    pool.allocate('a', 'a');
    pool.setHostRoutes([parseCidr('10.1.1.0/24')]);
    const err = thrown(() => pool.allocate('b', 'b'));
    expect(err.code).toBe('IPAM_POOL_EXHAUSTED');
    expect(err.details).toMatchObject({ maskLength: 24, pools: '10.1.0.0/23' });
    expect(pool.subnetOf('b')).toBeUndefined();
  });

  it.each([
    { name: 'the same subnet', subnet: '10.0.0.0/24', other: /network web \(10\.0\.0\.0\/24\)/ },
    { name: 'a larger subnet', subnet: '10.0.0.0/16', other: /network web/ },
    { name: 'a smaller subnet', subnet: '10.0.0.128/25', other: /network web/ },
    { name: 'a host route (moby#50011)', subnet: '192.168.1.0/24', other: /route to 192\.168\.0\.0\/16/ },
  ])('refuses $name with IPAM_SUBNET_OVERLAP', ({ subnet, other }) => {
    const pool = defaultPool();
    pool.allocate('id-web', 'web');
    pool.setHostRoutes([parseCidr('192.168.0.0/16')]);
    const err = thrown(() => pool.claim('x', 'x', parseCidr(subnet)));
    expect(err.code).toBe('IPAM_SUBNET_OVERLAP');
    expect(err.details['subnet']).toBe(subnet);
    expect(err.details['other']).toMatch(other);
    expect(pool.subnetOf('x')).toBeUndefined();
  });

  it('lets a restore keep a network that a host route now overlaps', () => {
    const pool = defaultPool();
    pool.setHostRoutes([parseCidr('10.0.0.0/16')]);
    pool.claim('old', 'old', parseCidr('10.0.0.0/24'), { ignoreRoutes: true });
    expect(formatCidr(pool.allocate('new', 'new'))).toBe('10.1.0.0/24');
  });

  // Reference: test every candidate of every pool in order.
  function naiveFindFree(pools: readonly Cidr[], mask: number, taken: readonly Cidr[]): Cidr | undefined {
    for (const pool of pools) {
      for (let base = pool.base; base + 2 ** (32 - mask) - 1 <= cidrLast(pool); base += 2 ** (32 - mask)) {
        const candidate = { base, prefix: mask };
        if (!taken.some((block) => cidrOverlaps(block, candidate))) return candidate;
      }
    }
    return undefined;
  }

  it('picks the same subnet as a naive scan of every candidate', () => {
    // Everything inside 10.0.0.0/16 so that collisions are common.
    const block = (minPrefix: number) =>
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: minPrefix, max: 30 })).map(([o, p]) => cidrOf(0x0a000000 + o, p));
    fc.assert(
      fc.property(
        fc.integer({ min: 18, max: 28 }),
        fc.array(block(16), { maxLength: 12 }),
        fc.array(block(16), { maxLength: 6 }),
        (mask, networks, routes) => {
          const pool = new SubnetPool(parsePoolConfig(['10.0.0.0/18', '10.0.128.0/17'], mask));
          const claimed: Cidr[] = [];
          for (const [i, subnet] of networks.entries()) {
            if (pool.conflict(subnet) === undefined) {
              pool.claim(`n${i}`, `n${i}`, subnet);
              claimed.push(subnet);
            }
          }
          pool.setHostRoutes(routes);
          const expected = naiveFindFree(pool.config.pools, mask, [...claimed, ...routes.filter((r) => r.prefix > 0)]);
          expect(pool.findFree()).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
