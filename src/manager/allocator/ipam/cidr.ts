/**
 * IPv4 CIDR blocks: parsing, formatting, containment and overlap. A Cidr is a plain value
 * (base address and prefix length) so it can sit in maps, state and tests without a class.
 * Arithmetic is done on plain numbers (never `<<` on 32 bits, which wraps to negative), so
 * ranges up to 0.0.0.0/0 are exact.
 */
import { isTsswarmError } from '../../../errors/index.js';
import { invalid, quote } from '../invalid.js';
import { formatIpv4, parseIpv4, type Ipv4 } from './ipv4.js';

export interface Cidr {
  /** The first address of the block; its host bits are zero. */
  readonly base: Ipv4;
  /** Prefix length in bits, 0-32. */
  readonly prefix: number;
}

/** Number of addresses in a block of this prefix length. */
export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function cidrSize(cidr: Cidr): number {
  return blockSize(cidr.prefix);
}

/** The last address of the block (its broadcast address for prefixes up to /30). */
export function cidrLast(cidr: Cidr): Ipv4 {
  return cidr.base + cidrSize(cidr) - 1;
}

/** The block of `prefix` bits that contains `address`. */
export function cidrOf(address: Ipv4, prefix: number): Cidr {
  const size = blockSize(prefix);
  return { base: Math.floor(address / size) * size, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

/**
 * Parses "a.b.c.d/n". Rejects a missing or out-of-range prefix and set host bits
 * ("10.0.0.1/24"): such input is usually a typo, and silently masking it would hide which of
 * the two the user meant. `label` names the input in the error (e.g. "--subnet").
 */
export function parseCidr(text: string, label = 'subnet'): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) {
    throw invalid(
      `${label} ${quote(text)}`,
      'it has no prefix length',
      `add one, e.g. ${quote(`${text}/24`)} for 256 addresses`,
    );
  }
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) {
    throw invalid(
      `${label} ${quote(text)}`,
      `the prefix length ${quote(prefixText)} is not a number 0-32`,
      'write the prefix length as a number of bits, e.g. /24 for 256 addresses',
    );
  }
  const prefix = Number(prefixText);
  const address = parseAddressOf(text, slash, label);
  const cidr = cidrOf(address, prefix);
  if (cidr.base !== address) {
    throw invalid(
      `${label} ${quote(text)}`,
      `${formatIpv4(address)} has bits set past the /${prefix} prefix`,
      `did you mean ${formatCidr(cidr)}?`,
    );
  }
  return cidr;
}

/** The address part of a CIDR; errors name the whole CIDR as the user typed it. */
function parseAddressOf(text: string, slash: number, label: string): number {
  try {
    return parseIpv4(text.slice(0, slash), label);
  } catch (err) {
    if (!isTsswarmError(err, 'IPAM_INVALID')) throw err;
    throw invalid(`${label} ${quote(text)}`, String(err.details['reason']), String(err.details['hint']));
  }
}

export function cidrContains(cidr: Cidr, address: Ipv4): boolean {
  return address >= cidr.base && address <= cidrLast(cidr);
}

/** Whether `outer` contains all of `inner`. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && cidrLast(inner) <= cidrLast(outer);
}

/**
 * Whether two blocks share an address. CIDR blocks are either nested or disjoint, so this is
 * the same as "one contains the other", but the interval form needs no case split.
 */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= cidrLast(b) && b.base <= cidrLast(a);
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.base === b.base && a.prefix === b.prefix;
}
