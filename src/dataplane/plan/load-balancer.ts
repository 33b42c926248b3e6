import { ipToInt, isIpv4 } from '../ipv4.js';
import type { NftChain } from '../kernel/types.js';
import type { LoadBalancerSpec, PublishedPortSpec, SandboxSpec } from '../model.js';
import { LB_NFT_TABLE, ruleKey, validId } from '../naming.js';
import type { Problem, TargetNftTable } from './target.js';

/**
 * Load balancing without IPVS (this kernel has none): each sandbox with load balancers gets an
 * nft table of its own, `ip tsswarm-lb`, in its namespace. Pure.
 *
 * - A VIP: new connections from the sandbox to it (tcp/udp, any port) are DNAT-ed in the nat
 *   output hook to `numgen inc mod N` over the sorted backends (round robin, as IPVS's default
 *   `rr` scheduler). NAT is decided on a connection's first packet only and kept by
 *   conntrack, so replacing the table when the backends change cuts no established connection.
 * - A published port (ingress sandbox): connections arriving on it are DNAT-ed in prerouting to
 *   backend . target port; what leaves through the overlay endpoints is masqueraded, so the
 *   task's reply comes back here to be un-NATed (and the client's address is lost, as in Docker,
 *   moby/moby#25526).
 * - No backends: a filter rule rejects the frontend at once (TCP reset, ICMP port unreachable)
 *   instead of letting a VIP that nobody holds time out. Connections opened before keep their
 *   backend (the table always keeps a nat chain, see below).
 * Every rule carries a key (its comment) that changes with its text, which is how the planner
 * sees a changed rule in what it reads back.
 */

export interface CompiledLb {
  /** The sandbox's table; undefined when it needs none. */
  readonly table: TargetNftTable | undefined;
  readonly problems: Problem[];
  /** Published ports that are programmed (ingress sandbox), for the host's DNAT. */
  readonly ports: PublishedPortSpec[];
  /** Services whose load balancer is in the table. */
  readonly services: string[];
}

export function lbItem(sandboxId: string, service: string): string {
  return `loadbalancer:${sandboxId}/${service}`;
}

/**
 * The table of one sandbox: its valid load balancers (a bad one is a Problem and left out,
 * the others are programmed), plus the ingress sandbox's masquerade out of `overlayIfs`.
 */
export function compileLoadBalancers(sb: SandboxSpec, overlayIfs: readonly string[]): CompiledLb {
  const item = `sandbox:${sb.id}`;
  const problems: Problem[] = [];
  const vip: NftChain['rules'][number][] = [];
  const published: NftChain['rules'][number][] = [];
  const refuseOut: NftChain['rules'][number][] = [];
  const refuseIn: NftChain['rules'][number][] = [];
  const ports: PublishedPortSpec[] = [];
  const services: string[] = [];
  const seenVips = new Set<string>();
  const seenPorts = new Set<string>();
  for (const lb of sb.loadBalancers ?? []) {
    const bad = lbProblem(lb, sb.ingress === true, seenVips, seenPorts);
    if (bad !== undefined) {
      problems.push({ item: lbItem(sb.id, lb.service), error: bad });
      continue;
    }
    if (!services.includes(lb.service)) services.push(lb.service);
    const backends = sortedBackends(lb.backends);
    if (lb.vip !== undefined) {
      seenVips.add(lb.vip);
      if (backends.length > 0) {
        const to = backends.length === 1 ? `dnat to ${backends[0]}` : `dnat to ${roundRobin(backends, (b) => b)}`;
        const rule = `ip daddr ${lb.vip} meta l4proto { tcp, udp } ${to}`;
        vip.push({ key: ruleKey(`vip ${lb.service} ${lb.vip}`, rule), rule });
      } else {
        for (const r of refuse(`ip daddr ${lb.vip}`)) refuseOut.push({ key: ruleKey(`refuse ${lb.service} ${lb.vip}`, r), rule: r });
      }
    }
    for (const p of lb.ports ?? []) {
      seenPorts.add(`${p.protocol}/${p.published}`);
      ports.push(p);
      const label = `pub ${lb.service} ${p.protocol}/${p.published}`;
      if (backends.length > 0) {
        // An address . port map needs the family ("dnat ip to"); one backend is plain ADDR:PORT.
        const to = backends.length === 1 ? `dnat to ${backends[0]}:${p.target}` : `dnat ip to ${roundRobin(backends, (b) => `${b} . ${p.target}`)}`;
        const rule = `${p.protocol} dport ${p.published} ${to}`;
        published.push({ key: ruleKey(label, rule), rule });
      } else {
        const rule = `ct state new ${p.protocol} dport ${p.published} ${p.protocol === 'tcp' ? 'reject with tcp reset' : 'reject'}`;
        refuseIn.push({ key: ruleKey(`refuse ${label}`, rule), rule });
      }
    }
  }
  const chains: NftChain[] = [];
  // Output nat is at -100 (the name "dstnat" is prerouting's only). The chain stays, empty, when
  // no VIP has a backend: the kernel translates the packets of established connections only while
  // the namespace has a nat chain and some rule that uses conntrack (the refusals match
  // `ct state new` for that reason too); without them every open connection would stall.
  if (services.length > 0) {
    chains.push({ name: 'lb-vip', hook: 'type nat hook output priority -100; policy accept;', rules: vip });
  }
  if (published.length > 0) chains.push({ name: 'lb-published', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: published });
  if (refuseOut.length > 0) chains.push({ name: 'lb-refuse-out', hook: 'type filter hook output priority filter; policy accept;', rules: refuseOut });
  if (refuseIn.length > 0) chains.push({ name: 'lb-refuse-in', hook: 'type filter hook input priority filter; policy accept;', rules: refuseIn });
  if (sb.ingress === true && overlayIfs.length > 0) {
    const rule = `oifname { ${overlayIfs.map((i) => `"${i}"`).join(', ')} } masquerade`;
    chains.push({ name: 'lb-masquerade', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: [{ key: ruleKey('ingress-masq', rule), rule }] });
  }
  const table = chains.length > 0 ? { item, family: 'ip', table: LB_NFT_TABLE, chains } : undefined;
  return { table, problems, ports, services };
}

/**
 * The host's routing mesh: every published port, for connections to any local address of the
 * host (arriving: prerouting; made on the host: output), DNAT-ed to the ingress sandbox's
 * docker_gwbridge address, same port. A connection to 127.0.0.1 leaves through the gwbridge
 * with its loopback source (the caller turns route_localnet on there) and is masqueraded to
 * the gwbridge's address, so that the ingress sandbox can answer it; as Docker does.
 */
export function hostIngressChains(ports: readonly PublishedPortSpec[], ingressAddr: string, gwbridge: string): NftChain[] {
  const rules = (hook: string) =>
    [...ports]
      .sort((a, b) => a.published - b.published || a.protocol.localeCompare(b.protocol))
      .map((p) => ({
        key: `ingress ${hook} ${p.protocol}/${p.published} ${ingressAddr}`,
        rule: `fib daddr type local ${p.protocol} dport ${p.published} dnat to ${ingressAddr}`,
      }));
  return [
    { name: 'ingress-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: rules('pre') },
    { name: 'ingress-output', hook: 'type nat hook output priority -100; policy accept;', rules: rules('out') },
    {
      name: 'ingress-localhost',
      hook: 'type nat hook postrouting priority srcnat; policy accept;',
      rules: [{ key: `ingress-localnet ${gwbridge}`, rule: `ip saddr 127.0.0.0/8 oifname "${gwbridge}" masquerade` }],
    },
  ];
}

/** Round robin over the backends: `numgen inc mod N map { 0 : X, ... }`. */
function roundRobin(backends: readonly string[], value: (b: string) => string): string {
  return `numgen inc mod ${backends.length} map { ${backends.map((b, i) => `${i} : ${value(b)}`).join(', ')} }`;
}

function refuse(match: string): string[] {
  // Only new connections: one opened before the last backend went keeps its backend.
  return [`ct state new ${match} meta l4proto tcp reject with tcp reset`, `ct state new ${match} meta l4proto udp reject`];
}

/** Deduplicated, in numeric order: the same set always gives the same rule. */
function sortedBackends(backends: readonly string[]): string[] {
  return [...new Set(backends)].sort((a, b) => ipToInt(a) - ipToInt(b));
}

function validPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function lbProblem(
  lb: LoadBalancerSpec,
  ingress: boolean,
  vips: ReadonlySet<string>,
  ports: ReadonlySet<string>,
): string | undefined {
  // One service may have several load balancers here (a VIP on each network the sandbox shares
  // with it): its VIPs and ports must differ, its ID need not.
  if (typeof lb.service !== 'string' || !validId(lb.service)) return 'invalid service ID';
  if (lb.vip !== undefined) {
    if (!isIpv4(lb.vip)) return `VIP ${JSON.stringify(lb.vip)} is not an IPv4 address`;
    if (vips.has(lb.vip)) return `VIP ${lb.vip} is already another service's`;
  }
  if (!Array.isArray(lb.backends)) return 'no backend list';
  const badBackend = lb.backends.find((b) => !isIpv4(b));
  if (badBackend !== undefined) return `backend ${JSON.stringify(badBackend)} is not an IPv4 address`;
  const list = lb.ports ?? [];
  if (list.length > 0 && !ingress) return 'published ports are served by the ingress sandbox only';
  const mine = new Set<string>();
  for (const p of list) {
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') return `protocol ${JSON.stringify(p.protocol)} is not tcp or udp`;
    if (!validPort(p.published) || !validPort(p.target)) return `port ${p.published}:${p.target} is out of 1-65535`;
    const k = `${p.protocol}/${p.published}`;
    if (ports.has(k) || mine.has(k)) return `port ${k} is already published`;
    mine.add(k);
  }
  return undefined;
}
