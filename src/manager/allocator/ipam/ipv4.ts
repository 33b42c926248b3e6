/**
 * IPv4 addresses as unsigned 32-bit numbers. Numbers (not strings) are what the bitmaps index
 * and what containment arithmetic needs; strings exist only at the edges (flags, JSON state).
 */
import { invalid, quote } from '../invalid.js';

/** An IPv4 address as an unsigned integer in [0, 2^32). */
export type Ipv4 = number;

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Parses a dotted-quad address strictly: four decimal octets 0-255, no leading zeros (which
 * some tools read as octal, so "010.0.0.1" would mean different hosts to different programs),
 * no spaces. `label` names the input in the error (e.g. "--gateway").
 */
export function parseIpv4(text: string, label = 'address'): Ipv4 {
  const parts = text.split('.');
  if (parts.length !== 4) {
    throw invalid(
      `${label} ${quote(text)}`,
      `an IPv4 address has four dot-separated numbers, this has ${parts.length}`,
      'write it as four numbers 0-255, e.g. 10.0.0.2',
    );
  }
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) {
      const leadingZero = /^0[0-9]+$/.test(part);
      throw invalid(
        `${label} ${quote(text)}`,
        leadingZero ? `the number ${quote(part)} has a leading zero` : `${quote(part)} is not a decimal number`,
        leadingZero ? 'drop the leading zeros (they read as octal in some tools)' : 'write it as four numbers 0-255, e.g. 10.0.0.2',
      );
    }
    const octet = Number(part);
    if (octet > 255) {
      throw invalid(`${label} ${quote(text)}`, `${part} is larger than 255`, 'each of the four numbers is 0-255');
    }
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(address: Ipv4): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

/** Whether `text` is an IPv4 address as parseIpv4 accepts it. */
export function isIpv4(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}
