/** Small IPv4 helpers for the dataplane (pure). */

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${ip}`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new RangeError(`not an IPv4 address: ${ip}`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function intToIp(v: number): string {
  return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');
}

export interface Cidr {
  readonly base: number;
  readonly len: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split('/');
  const n = Number(len);
  if (ip === undefined || !Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`not an IPv4 CIDR: ${cidr}`);
  return { base: (ipToInt(ip) & maskOf(n)) >>> 0, len: n };
}

export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.len}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.len)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.len, b.len);
  return ((a.base & maskOf(len)) >>> 0) === ((b.base & maskOf(len)) >>> 0);
}

/** "10.0.1.5/24" -> "10.0.1.0/24". */
export function networkOf(cidrWithHost: string): string {
  return formatCidr(parseCidr(cidrWithHost));
}

/** Whether the text is a dotted-quad IPv4 address (what ipToInt accepts). */
export function isIpv4(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    ipToInt(text);
    return true;
  } catch {
    return false;
  }
}
