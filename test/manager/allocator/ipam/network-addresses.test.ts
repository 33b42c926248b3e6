import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrLast, parseCidr } from '../../../../src/manager/allocator/ipam/cidr.js';
import { formatIpv4, parseIpv4 } from '../../../../src/manager/allocator/ipam/ipv4.js';
import { NetworkAddresses, type NetworkAddressing } from '../../../../src/manager/allocator/ipam/network-addresses.js';
import { thrown } from '../helpers.js';

const ip = parseIpv4;
const make = (subnet: string, gateway?: string, ipRange?: string): NetworkAddresses =>
  new NetworkAddresses('web', {
    subnet: parseCidr(subnet),
    gateway: gateway === undefined ? undefined : ip(gateway),
    ipRange: ipRange === undefined ? undefined : parseCidr(ipRange),
  });

describe('NetworkAddresses', () => {
  it('uses the first usable address as gateway and hands out the next ones in order', () => {
    const net = make('10.0.1.0/24');
    expect(formatIpv4(net.gateway)).toBe('10.0.1.1');
    expect(net.capacity).toBe(253);
    expect([net.allocate(), net.allocate(), net.allocate()].map(formatIpv4)).toEqual(['10.0.1.2', '10.0.1.3', '10.0.1.4']);
    expect(net.allocatedCount).toBe(3);
  });

  it('skips an explicit gateway', () => {
    const net = make('10.0.1.0/29', '10.0.1.3');
    expect(net.capacity).toBe(5);
    const got = Array.from({ length: 5 }, () => formatIpv4(net.allocate()));
    expect(got).toEqual(['10.0.1.1', '10.0.1.2', '10.0.1.4', '10.0.1.5', '10.0.1.6']);
  });

  it('allocates automatic addresses only from --ip-range, but accepts a requested address anywhere in the subnet', () => {
    const net = make('10.0.0.0/24', undefined, '10.0.0.128/30');
    expect(net.capacity).toBe(4);
    const got = Array.from({ length: 4 }, () => formatIpv4(net.allocate()));
    expect(got).toEqual(['10.0.0.128', '10.0.0.129', '10.0.0.130', '10.0.0.131']);
    expect(formatIpv4(net.allocate(ip('10.0.0.77')))).toBe('10.0.0.77');
    const err = thrown(() => net.allocate());
    expect(err.code).toBe('IPAM_ADDRESSES_EXHAUSTED');
    expect(err.details['size']).toBe(4);
    expect(err.details['suggestion']).toMatch(/widen --ip-range 10\.0\.0\.128\/30/);
  });

  it('does not reuse a just-released address until the range wraps around (stale ARP/DNS)', () => {
    const net = make('10.0.0.0/29'); // .2 to .6 for tasks
    const a = net.allocate();
    const b = net.allocate();
    expect(net.release(a)).toBe(true);
    expect(formatIpv4(net.allocate())).toBe('10.0.0.4');
    expect(net.release(b)).toBe(true);
    expect([net.allocate(), net.allocate(), net.allocate(), net.allocate()].map(formatIpv4)).toEqual([
      '10.0.0.5',
      '10.0.0.6',
      '10.0.0.2',
      '10.0.0.3',
    ]);
  });

  it('reports exhaustion with the size of the range and a larger --subnet (moby#43052)', () => {
    const net = make('10.0.9.0/24');
    for (let i = 0; i < 253; i++) net.allocate();
    const err = thrown(() => net.allocate());
    expect(err.code).toBe('IPAM_ADDRESSES_EXHAUSTED');
    expect(err.details).toMatchObject({ network: 'web', subnet: '10.0.9.0/24', size: 253 });
    expect(err.details['suggestion']).toBe('recreate it with a larger --subnet, e.g. a /22 (1021 usable addresses)');
    expect(err.message).toContain('all 253 usable addresses');
  });

  it.each([
    { name: 'outside the subnet', addr: '10.0.2.9', code: 'IPAM_INVALID', reason: /outside the subnet/ },
    { name: 'the network address', addr: '10.0.1.0', code: 'IPAM_INVALID', reason: /network address/ },
    { name: 'the broadcast address', addr: '10.0.1.255', code: 'IPAM_INVALID', reason: /broadcast address/ },
    { name: 'the gateway', addr: '10.0.1.1', code: 'IPAM_ADDRESS_IN_USE', reason: undefined },
    { name: 'taken', addr: '10.0.1.2', code: 'IPAM_ADDRESS_IN_USE', reason: undefined },
  ])('refuses a requested address that is $name', ({ addr, code, reason }) => {
    const net = make('10.0.1.0/24');
    net.allocate();
    const err = thrown(() => net.allocate(ip(addr)));
    expect(err.code).toBe(code);
    if (reason !== undefined) expect(err.details['reason']).toMatch(reason);
    expect(net.allocatedCount).toBe(1);
  });

  it.each([
    { name: 'a gateway outside the subnet', a: { gateway: '10.0.2.1' }, detail: /--gateway "10\.0\.2\.1"/ },
    { name: 'the network address as gateway', a: { gateway: '10.0.1.0' }, detail: /--gateway/ },
    { name: 'the broadcast address as gateway', a: { gateway: '10.0.1.255' }, detail: /--gateway/ },
    { name: 'an ip-range outside the subnet', a: { ipRange: '10.0.2.0/25' }, detail: /--ip-range "10\.0\.2\.0\/25"/ },
    { name: 'an ip-range larger than the subnet', a: { ipRange: '10.0.0.0/23' }, detail: /--ip-range/ },
    { name: 'an ip-range holding only the gateway', a: { ipRange: '10.0.1.1/32' }, detail: /--ip-range/ },
    { name: 'a /31 subnet', a: { subnet: '10.0.1.0/31' }, detail: /--subnet "10\.0\.1\.0\/31"/ },
  ])('refuses $name with IPAM_INVALID', ({ a, detail }) => {
    const input = { subnet: '10.0.1.0/24', ...a } as { subnet: string; gateway?: string; ipRange?: string };
    const err = thrown(() => make(input.subnet, input.gateway, input.ipRange));
    expect(err.code).toBe('IPAM_INVALID');
    expect(err.details['detail']).toMatch(detail);
  });

  it('releases only allocated addresses, never the reserved ones', () => {
    const net = make('10.0.1.0/24');
    expect(net.release(ip('10.0.1.1'))).toBe(false);
    expect(net.release(ip('10.0.1.0'))).toBe(false);
    expect(net.release(ip('10.0.1.9'))).toBe(false);
    expect(thrown(() => net.release(ip('10.0.2.9'))).code).toBe('IPAM_INVALID');
  });

  it('fills a /16 (65,533 task addresses) quickly and finds a single hole at once', () => {
    const net = make('10.1.0.0/16');
    const started = performance.now();
    for (let i = 0; i < 65533; i++) net.allocate();
    expect(thrown(() => net.allocate()).code).toBe('IPAM_ADDRESSES_EXHAUSTED');
    expect(net.release(ip('10.1.128.77'))).toBe(true);
    expect(formatIpv4(net.allocate())).toBe('10.1.128.77');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  // Property tests over random subnets, gateways, ranges and operation sequences.
  const addressing = fc
    .tuple(fc.integer({ min: 22, max: 29 }), fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 1023 }), fc.option(fc.integer({ min: 0, max: 4 })))
    .map(([prefix, gw, rangeSeed, rangeExtra]): NetworkAddressing => {
      const subnet = parseCidr(`10.0.0.0/${prefix}`);
      const size = 2 ** (32 - prefix);
      const gateway = subnet.base + 1 + (gw % (size - 2));
      const rangePrefix = rangeExtra === null ? undefined : Math.min(prefix + rangeExtra, 30);
      const ipRange = rangePrefix === undefined ? undefined : { base: subnet.base + Math.floor((rangeSeed % size) / 2 ** (32 - rangePrefix)) * 2 ** (32 - rangePrefix), prefix: rangePrefix };
      return { subnet, gateway, ipRange };
    });
  const ops = fc.array(fc.oneof(fc.constant({ kind: 'alloc' as const, pick: 0 }), fc.record({ kind: fc.constant('release' as const), pick: fc.nat() })), {
    maxLength: 300,
  });

  it('allocated addresses are unique, in range and never reserved; release then allocate round-trips', () => {
    fc.assert(
      fc.property(addressing, ops, (a, sequence) => {
        // Every generated range is a /30 or wider, so it always holds a task address.
        const net = new NetworkAddresses('p', a);
        const range = a.ipRange ?? a.subnet;
        const held = new Set<number>();
        for (const op of sequence) {
          if (op.kind === 'alloc') {
            if (held.size === net.capacity) {
              expect(thrown(() => net.allocate()).code).toBe('IPAM_ADDRESSES_EXHAUSTED');
              continue;
            }
            const address = net.allocate();
            expect(held.has(address)).toBe(false);
            expect(cidrContains(range, address)).toBe(true);
            expect([a.subnet.base, cidrLast(a.subnet), net.gateway]).not.toContain(address);
            held.add(address);
          } else if (held.size > 0) {
            const address = [...held][op.pick % held.size]!;
            expect(net.release(address)).toBe(true);
            expect(net.release(address)).toBe(false);
            held.delete(address);
            expect(formatIpv4(net.allocate(address))).toBe(formatIpv4(address));
            expect(net.release(address)).toBe(true);
          }
          expect(net.allocatedCount).toBe(held.size);
        }
        expect(net.addresses()).toEqual([...held].sort((x, y) => x - y));
      }),
      { numRuns: 200 },
    );
  });
});
