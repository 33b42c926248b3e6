import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, type Cidr } from '../ipv4.js';
import type { NftChain } from '../kernel/types.js';

/**
 * docker_gwbridge decisions (pure): which /16 it gets, which address each sandbox gets on it,
 * and its nft rules (masquerade out of the host, no task-to-task traffic across it).
 */

/** Docker's order: 172.18.0.0/16 first, then the next free /16 in 172.17-31. */
const CANDIDATES: readonly string[] = [
  ...Array.from({ length: 14 }, (_, i) => `172.${18 + i}.0.0/16`),
  '172.17.0.0/16',
];

/**
 * The first candidate /16 that overlaps none of the host's routes (given as "DST ..." lines
 * of `ip route`; "default" is ignored). Undefined when all clash.
 */
export function chooseGwSubnet(hostRoutes: Iterable<string>): string | undefined {
  const taken: Cidr[] = [];
  for (const r of hostRoutes) {
    const dst = r.split(' ')[0] ?? '';
    if (dst === 'default' || dst === '') continue;
    try {
      taken.push(parseCidr(dst.includes('/') ? dst : `${dst}/32`));
    } catch {
      // Not IPv4 (e.g. a broadcast or multicast keyword): cannot clash.
    }
  }
  return CANDIDATES.find((c) => !taken.some((t) => overlaps(parseCidr(c), t)));
}

/**
 * Addresses on the gwbridge subnet: sandboxes keep what they already have (read back from the
 * kernel); new ones get the lowest free address above the gateway's, in sandbox-ID order so
 * the result does not depend on input order.
 */
export function assignGwAddrs(
  sandboxIds: readonly string[],
  existing: ReadonlyMap<string, string>,
  subnet: string,
  gateway: string,
): Map<string, string> {
  const net = parseCidr(subnet);
  const used = new Set<number>([ipToInt(gateway), net.base, (net.base + 2 ** (32 - net.len) - 1) >>> 0]);
  const out = new Map<string, string>();
  for (const id of sandboxIds) {
    const ip = existing.get(id);
    if (ip !== undefined && contains(net, ipToInt(ip)) && !used.has(ipToInt(ip))) {
      out.set(id, ip);
      used.add(ipToInt(ip));
    }
  }
  let next = net.base + 1;
  const last = net.base + 2 ** (32 - net.len) - 2;
  for (const id of [...sandboxIds].sort()) {
    if (out.has(id)) continue;
    while (next <= last && used.has(next >>> 0)) next++;
    if (next > last) break; // exhausted: the caller reports the sandbox as unplaceable
    out.set(id, intToIp(next >>> 0));
    used.add(next >>> 0);
  }
  return out;
}

/** The gateway of a gwbridge subnet: its first address, as Docker does. */
export function gwGateway(subnet: string): string {
  return intToIp((parseCidr(subnet).base + 1) >>> 0);
}

export function gwNftChains(subnet: string, bridge: string): NftChain[] {
  const s = formatCidr(parseCidr(subnet));
  return [
    {
      name: 'gw-postrouting',
      hook: 'type nat hook postrouting priority srcnat; policy accept;',
      rules: [{ key: `gw-masq ${s} ${bridge}`, rule: `ip saddr ${s} oifname != "${bridge}" masquerade` }],
    },
    {
      name: 'gw-forward',
      hook: 'type filter hook forward priority filter; policy accept;',
      // Port isolation stops bridged task-to-task frames; this stops routed ones (hairpin).
      rules: [{ key: `gw-icc ${bridge}`, rule: `iifname "${bridge}" oifname "${bridge}" drop` }],
    },
  ];
}
