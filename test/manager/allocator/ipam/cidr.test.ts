import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrContainsCidr,
  cidrLast,
  cidrOf,
  cidrOverlaps,
  formatCidr,
  parseCidr,
  type Cidr,
} from '../../../../src/manager/allocator/ipam/cidr.js';
import { formatIpv4, isIpv4, parseIpv4 } from '../../../../src/manager/allocator/ipam/ipv4.js';
import { thrown } from '../helpers.js';

describe('parseIpv4 / formatIpv4', () => {
  it.each([
    { text: '0.0.0.0', value: 0 },
    { text: '10.0.0.1', value: 0x0a000001 },
    { text: '192.168.1.254', value: 0xc0a801fe },
    { text: '255.255.255.255', value: 0xffffffff },
  ])('parses $text', ({ text, value }) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it.each([
    { text: '', reason: /four/ },
    { text: '10.0.0', reason: /four/ },
    { text: '10.0.0.1.2', reason: /four/ },
    { text: '10.0.0.256', reason: /larger than 255/ },
    { text: '10.0.0.01', reason: /leading zero/ },
    { text: '10.0.0.-1', reason: /not a decimal/ },
    { text: '10.0.0. 1', reason: /not a decimal/ },
    { text: '10.0.0.0x1', reason: /not a decimal/ },
  ])('rejects $text with IPAM_INVALID naming it, the reason and a hint', ({ text, reason }) => {
    const err = thrown(() => parseIpv4(text, '--gateway'));
    expect(err.code).toBe('IPAM_INVALID');
    expect(err.details['detail']).toBe(`--gateway ${JSON.stringify(text)}`);
    expect(err.details['reason']).toMatch(reason);
    expect(String(err.details['hint'])).not.toBe('');
    expect(isIpv4(text)).toBe(false);
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => parseIpv4(formatIpv4(n)) === n));
  });
});

describe('parseCidr', () => {
  it.each([
    { text: '10.0.0.0/8', base: '10.0.0.0', prefix: 8, last: '10.255.255.255' },
    { text: '10.0.1.0/24', base: '10.0.1.0', prefix: 24, last: '10.0.1.255' },
    { text: '0.0.0.0/0', base: '0.0.0.0', prefix: 0, last: '255.255.255.255' },
    { text: '192.168.1.7/32', base: '192.168.1.7', prefix: 32, last: '192.168.1.7' },
    { text: '128.0.0.0/1', base: '128.0.0.0', prefix: 1, last: '255.255.255.255' },
  ])('parses $text', ({ text, base, prefix, last }) => {
    const cidr = parseCidr(text);
    expect(formatIpv4(cidr.base)).toBe(base);
    expect(cidr.prefix).toBe(prefix);
    expect(formatIpv4(cidrLast(cidr))).toBe(last);
    expect(formatCidr(cidr)).toBe(text);
  });

  it.each([
    { text: '10.0.0.0', reason: /no prefix length/, hint: /10\.0\.0\.0\/24/ },
    { text: '10.0.0.0/33', reason: /not a number 0-32/, hint: /bits/ },
    { text: '10.0.0.0/', reason: /not a number 0-32/, hint: /bits/ },
    { text: '10.0.0.0/024', reason: /not a number 0-32/, hint: /bits/ },
    { text: '10.0.0.1/24', reason: /bits set past the \/24/, hint: /did you mean 10\.0\.0\.0\/24/ },
    { text: '10.0.300.0/24', reason: /larger than 255/, hint: /0-255/ },
  ])('rejects $text with IPAM_INVALID', ({ text, reason, hint }) => {
    const err = thrown(() => parseCidr(text, '--subnet'));
    expect(err.code).toBe('IPAM_INVALID');
    expect(err.details['detail']).toBe(`--subnet ${JSON.stringify(text)}`);
    expect(err.details['reason']).toMatch(reason);
    expect(err.details['hint']).toMatch(hint);
    expect(err.message).toContain('--subnet');
  });

  it('round-trips every block', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const cidr = cidrOf(address, prefix);
        expect(parseCidr(formatCidr(cidr))).toEqual(cidr);
        expect(cidrContains(cidr, address)).toBe(true);
      }),
    );
  });
});

describe('containment and overlap', () => {
  const block = (text: string): Cidr => parseCidr(text);

  it.each([
    { a: '10.0.0.0/8', b: '10.1.2.0/24', overlaps: true, aContainsB: true },
    { a: '10.0.0.0/24', b: '10.0.1.0/24', overlaps: false, aContainsB: false },
    { a: '10.0.0.0/24', b: '10.0.0.0/24', overlaps: true, aContainsB: true },
    { a: '10.0.1.0/24', b: '10.0.0.0/16', overlaps: true, aContainsB: false },
    { a: '0.0.0.0/0', b: '255.255.255.255/32', overlaps: true, aContainsB: true },
    { a: '10.0.0.0/25', b: '10.0.0.128/25', overlaps: false, aContainsB: false },
  ])('$a and $b', ({ a, b, overlaps, aContainsB }) => {
    expect(cidrOverlaps(block(a), block(b))).toBe(overlaps);
    expect(cidrOverlaps(block(b), block(a))).toBe(overlaps);
    expect(cidrContainsCidr(block(a), block(b))).toBe(aContainsB);
  });

  // Blocks inside 10.0.0.0/20 with prefixes /22 to /32: at most 1024 addresses each, few enough
  // to compare against explicit address sets.
  const smallBlock = fc
    .tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 22, max: 32 }))
    .map(([offset, prefix]) => cidrOf(0x0a000000 + offset, prefix));
  const addressesOf = (cidr: Cidr): Set<number> => {
    const set = new Set<number>();
    for (let a = cidr.base; a <= cidrLast(cidr); a++) set.add(a);
    return set;
  };

  it('overlap and containment agree with explicit address sets', () => {
    fc.assert(
      fc.property(smallBlock, smallBlock, (a, b) => {
        const setA = addressesOf(a);
        const setB = addressesOf(b);
        const shared = [...setA].some((x) => setB.has(x));
        const contains = [...setB].every((x) => setA.has(x));
        expect(cidrOverlaps(a, b)).toBe(shared);
        expect(cidrContainsCidr(a, b)).toBe(contains);
      }),
      { numRuns: 300 },
    );
  });
});
