import { contains, formatCidr, ipToInt, parseCidr } from '../ipv4.js';
import { formatRoute } from '../kernel/parse-readback.js';
import { HOST_NS, type KernelState } from '../kernel/types.js';
import type { DataplaneConfig, DesiredState, NetworkSpec, PublishedPortSpec } from '../model.js';
import {
  GWBRIDGE_ALIAS,
  OVERLAY_BRIDGE,
  gwVeth,
  overlayNs,
  overlayVeth,
  sandboxIf,
  sandboxNs,
  validId,
  vxlanName,
} from '../naming.js';
import { assignGwAddrs, chooseGwSubnet, gwGateway, gwNftChains } from './gwbridge.js';
import { compileLoadBalancers, hostIngressChains } from './load-balancer.js';
import { emptyTargetNs, type Problem, type TargetNs, type TargetState } from './target.js';

/** VXLAN adds 50 bytes (outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8). */
const VXLAN_OVERHEAD = 50;
/** The user-space sealer's extra header (see DESIGN.md: encrypted overlays). */
const SEAL_OVERHEAD = 26;

/**
 * Set in every overlay namespace: with br_netfilter loaded (dockerd loads it) every frame that
 * crosses br0 would otherwise go through the IP, IPv6 and ARP netfilter hooks, which cost
 * about a fifth of the overlay's throughput here; nothing of ours filters bridged traffic
 * there. The defaults are per namespace (1 in each new one), so the host keeps Docker's.
 */
export const OVERLAY_NS_SYSCTLS: readonly string[] = [
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.bridge.bridge-nf-call-arptables',
];

/** The gwbridge's route_localnet: lets the host DNAT 127.0.0.1:PORT out through it (routing mesh). */
export function localnetSysctl(cfg: DataplaneConfig): string {
  return `net.ipv4.conf.${cfg.gwbridgeName}.route_localnet`;
}

export function overlayMtu(net: NetworkSpec, underlayMtu: number): number {
  return net.mtu ?? underlayMtu - VXLAN_OVERHEAD - (net.encrypted ? SEAL_OVERHEAD : 0);
}

export interface Compiled {
  readonly target: TargetState;
  readonly problems: Problem[];
}

/**
 * Turns a desired state into the kernel objects it needs. Reads the observed state only for
 * choices that must stay stable across restarts (the gwbridge subnet and sandbox addresses on
 * it) or that depend on the host (subnet clashes).
 */
export function compileTarget(desired: DesiredState, cfg: DataplaneConfig, obs: KernelState): Compiled {
  const problems: Problem[] = [];
  const target: TargetState = { ns: new Map(), sysctls: new Map() };
  const host = emptyTargetNs('host');
  target.ns.set(HOST_NS, host);
  const nets = new Map<string, NetworkSpec>();

  for (const net of desired.networks) {
    const item = `network:${net.id}`;
    const bad = networkProblem(net, nets);
    if (bad !== undefined) {
      problems.push({ item, error: bad });
      continue;
    }
    nets.set(net.id, net);
    const ns = overlayNs(net.id);
    const mtu = overlayMtu(net, cfg.underlayMtu);
    const t = emptyTargetNs(item);
    const vx = vxlanName(net.vni);
    const len = parseCidr(net.subnet).len;
    t.links.set(OVERLAY_BRIDGE, {
      name: OVERLAY_BRIDGE,
      item,
      kind: 'bridge',
      create: { op: 'bridge-add', item, ns, name: OVERLAY_BRIDGE, mtu },
      mtu,
      up: true,
    });
    t.links.set(vx, {
      name: vx,
      item,
      kind: 'vxlan',
      create: { op: 'vxlan-add', item, ns, name: vx, vni: net.vni, port: cfg.dataPathPort, local: cfg.dataPathAddr, mtu },
      vxlan: { vni: net.vni, port: cfg.dataPathPort, local: cfg.dataPathAddr, learning: false, proxy: true },
      mtu,
      up: true,
      master: OVERLAY_BRIDGE,
    });
    t.addrs.set(`${OVERLAY_BRIDGE} ${net.gateway}/${len}`, item);
    for (const k of OVERLAY_NS_SYSCTLS) t.sysctls.set(k, { item, value: '0' });
    target.ns.set(ns, t);
  }

  // docker_gwbridge, on first use.
  const gwUsers = desired.sandboxes.filter((s) => s.gateway !== false && validId(s.id));
  let gw: { subnet: string; gateway: string; addrs: Map<string, string> } | undefined;
  if (gwUsers.length > 0) {
    const hostObs = obs.ns.get(HOST_NS);
    const existing = hostObs?.links.get(cfg.gwbridgeName);
    const existingAddr = [...(hostObs?.addrs ?? [])].find((a) => a.startsWith(`${cfg.gwbridgeName} `))?.split(' ')[1];
    let subnet: string | undefined;
    let gateway: string | undefined;
    if (existing !== undefined && existingAddr !== undefined) {
      subnet = formatCidr(parseCidr(existingAddr));
      gateway = existingAddr.split('/')[0];
    } else {
      const routes = [...(hostObs?.routes ?? [])].filter((r) => !r.endsWith(` dev ${cfg.gwbridgeName}`));
      subnet = chooseGwSubnet(routes);
      gateway = subnet !== undefined ? gwGateway(subnet) : undefined;
    }
    if (subnet === undefined || gateway === undefined) {
      problems.push({ item: 'gwbridge', error: 'every candidate /16 in 172.17-31 clashes with a host route' });
    } else {
      const item = 'gwbridge';
      if (existing === undefined || existing.alias === GWBRIDGE_ALIAS) {
        const len = parseCidr(subnet).len;
        host.links.set(cfg.gwbridgeName, {
          name: cfg.gwbridgeName,
          item,
          kind: 'bridge',
          create: { op: 'bridge-add', item, ns: HOST_NS, name: cfg.gwbridgeName, mtu: cfg.underlayMtu, alias: GWBRIDGE_ALIAS },
          up: true,
        });
        host.addrs.set(`${cfg.gwbridgeName} ${gateway}/${len}`, item);
      } else {
        // Someone else's docker_gwbridge: used as it is, never changed or removed.
        host.links.set(cfg.gwbridgeName, { name: cfg.gwbridgeName, item, kind: 'bridge' });
      }
      host.nft.set(`ip ${cfg.nftTable}`, { item, family: 'ip', table: cfg.nftTable, chains: gwNftChains(subnet, cfg.gwbridgeName) });
      target.sysctls.set('net.ipv4.ip_forward', { item, value: '1' });
      const held = new Map<string, string>();
      for (const s of gwUsers) {
        const dev = sandboxIf(s.endpoints.length);
        const a = [...(obs.ns.get(sandboxNs(s.id))?.addrs ?? [])].find((x) => x.startsWith(`${dev} `));
        if (a !== undefined) held.set(s.id, (a.split(' ')[1] ?? '').split('/')[0] ?? '');
      }
      gw = { subnet, gateway, addrs: assignGwAddrs(gwUsers.map((s) => s.id), held, subnet, gateway) };
    }
  }

  const seen = new Set<string>();
  let ingress: { readonly id: string; readonly addr: string | undefined; readonly ports: PublishedPortSpec[] } | undefined;
  for (const sb of desired.sandboxes) {
    const item = `sandbox:${sb.id}`;
    if (!validId(sb.id) || seen.has(sb.id)) {
      problems.push({ item, error: validId(sb.id) ? 'duplicate sandbox ID' : 'invalid sandbox ID' });
      continue;
    }
    seen.add(sb.id);
    const ns = sandboxNs(sb.id);
    if (sb.netnsFrom !== undefined && !/^\/[^\s]*$/.test(sb.netnsFrom)) {
      problems.push({ item, error: `netnsFrom ${JSON.stringify(sb.netnsFrom)} is not an absolute path of a namespace file` });
      continue;
    }
    const t: TargetNs = { ...emptyTargetNs(item), ...(sb.netnsFrom !== undefined ? { netnsFrom: sb.netnsFrom } : {}) };
    t.links.set('lo', { name: 'lo', item, kind: 'lo', up: true });
    const bad = sb.endpoints
      .map((ep) => {
        const net = nets.get(ep.network);
        if (net === undefined) return `unknown network ${ep.network}`;
        return contains(parseCidr(net.subnet), ipToInt(ep.ip)) ? undefined : `${ep.ip} is outside ${net.subnet}`;
      })
      .find((e) => e !== undefined);
    if (bad !== undefined) {
      problems.push({ item, error: bad });
      continue;
    }
    sb.endpoints.forEach((ep, i) => {
      const net = nets.get(ep.network) as NetworkSpec;
      const ov = overlayNs(net.id);
      const mtu = overlayMtu(net, cfg.underlayMtu);
      const dev = sandboxIf(i);
      const ve = overlayVeth(sb.id) + (i === 0 ? '' : String(i));
      const ovT = target.ns.get(ov) as TargetNs;
      ovT.links.set(ve, {
        name: ve,
        item,
        kind: 'veth',
        create: { op: 'veth-add', item, ns: ov, name: ve, mtu, peerNs: ns, peerName: dev, peerMac: ep.mac },
        peer: { ns, name: dev },
        mtu,
        up: true,
        master: OVERLAY_BRIDGE,
      });
      t.links.set(dev, { name: dev, item, kind: 'veth', peer: { ns: ov, name: ve }, mtu, up: true, mac: ep.mac });
      t.addrs.set(`${dev} ${ep.ip}/${parseCidr(net.subnet).len}`, item);
    });
    const gwIp = gw?.addrs.get(sb.id);
    if (sb.gateway !== false && gw !== undefined && gwIp !== undefined) {
      const dev = sandboxIf(sb.endpoints.length);
      const hv = gwVeth(sb.id);
      host.links.set(hv, {
        name: hv,
        item,
        kind: 'veth',
        create: { op: 'veth-add', item, ns: HOST_NS, name: hv, mtu: cfg.underlayMtu, peerNs: ns, peerName: dev },
        peer: { ns, name: dev },
        mtu: cfg.underlayMtu,
        up: true,
        master: cfg.gwbridgeName,
        isolated: true,
      });
      t.links.set(dev, { name: dev, item, kind: 'veth', peer: { ns: HOST_NS, name: hv }, mtu: cfg.underlayMtu, up: true });
      t.addrs.set(`${dev} ${gwIp}/${parseCidr(gw.subnet).len}`, item);
      t.routes.set(formatRoute('default', gw.gateway, dev), { item, dst: 'default', via: gw.gateway, dev });
    } else if (sb.gateway !== false) {
      problems.push({ item, error: 'no docker_gwbridge address for it' });
    }
    if ((sb.loadBalancers?.length ?? 0) > 0 || sb.ingress === true) {
      let spec = sb;
      if (sb.ingress === true && ingress !== undefined) {
        problems.push({ item: `ingress:${sb.id}`, error: `sandbox ${ingress.id} is this node's ingress sandbox already` });
        spec = { ...sb, ingress: false };
      }
      const lb = compileLoadBalancers(spec, sb.endpoints.map((_ep, i) => sandboxIf(i)));
      problems.push(...lb.problems);
      if (lb.table !== undefined) t.nft.set(`${lb.table.family} ${lb.table.table}`, lb.table);
      if (spec.ingress === true) {
        t.sysctls.set('net.ipv4.ip_forward', { item, value: '1' });
        const addr = sb.gateway !== false ? gwIp : undefined;
        if (addr === undefined) problems.push({ item: `ingress:${sb.id}`, error: 'the ingress sandbox has no docker_gwbridge address to publish ports to' });
        ingress = { id: sb.id, addr, ports: lb.ports };
      }
    }
    target.ns.set(ns, t);
  }
  if (ingress?.addr !== undefined && ingress.ports.length > 0) {
    const item = `ingress:${ingress.id}`;
    host.nft.set(`ip ${cfg.ingressNftTable}`, {
      item,
      family: 'ip',
      table: cfg.ingressNftTable,
      chains: hostIngressChains(ingress.ports, ingress.addr, cfg.gwbridgeName),
    });
    // Left on when the ingress goes, as ip_forward: Docker's own ingress may rely on it too.
    target.sysctls.set(localnetSysctl(cfg), { item, value: '1' });
  }

  addRemotes(target, desired.remotes, nets, cfg, problems);
  return { target, problems };
}

/** Remote endpoints: a permanent neighbour and FDB entry each, in their overlay namespace. */
function addRemotes(
  target: TargetState,
  remotes: DesiredState['remotes'],
  nets: ReadonlyMap<string, NetworkSpec>,
  cfg: DataplaneConfig,
  problems: Problem[],
  keep: ReadonlySet<string> = new Set(),
): void {
  for (const r of remotes) {
    if (keep.has(r.network)) continue;
    const item = `remote:${r.network}/${r.ip}`;
    const net = nets.get(r.network);
    if (net === undefined) {
      problems.push({ item, error: `unknown network ${r.network}` });
      continue;
    }
    if (r.vtep === cfg.dataPathAddr) continue; // our own endpoint, reached through the bridge
    const t = target.ns.get(overlayNs(net.id)) as TargetNs;
    // On the VXLAN device: its proxy-ARP answers from its own neighbour table.
    t.neigh.set(`${vxlanName(net.vni)} ${r.ip} ${r.mac}`, item);
    t.fdb.set(`${vxlanName(net.vni)} ${r.mac} ${r.vtep}`, item);
  }
}

/**
 * A previous compilation with the remote endpoints replaced: valid when nothing but remote
 * endpoints changed since (the caller checks that with its fingerprints). Shares every
 * namespace target except the entries of the overlays in `changed` (network IDs whose remote
 * endpoints differ), which are rebuilt; by default all of them.
 */
export function recompileRemotes(prev: Compiled, desired: DesiredState, cfg: DataplaneConfig, changed?: ReadonlySet<string>): Compiled {
  const ns = new Map(prev.target.ns);
  const nets = new Map<string, NetworkSpec>();
  const keep = new Set<string>();
  for (const n of desired.networks) {
    const key = overlayNs(n.id);
    const t = ns.get(key);
    if (t === undefined) continue;
    nets.set(n.id, n);
    if (changed !== undefined && !changed.has(n.id)) keep.add(n.id);
    else ns.set(key, { ...t, neigh: new Map(), fdb: new Map() });
  }
  const target: TargetState = { ...prev.target, ns };
  const problems = prev.problems.filter((p) => !p.item.startsWith('remote:') || keep.has(p.item.slice(7, p.item.lastIndexOf('/'))));
  addRemotes(target, desired.remotes, nets, cfg, problems, keep);
  return { target, problems };
}

function networkProblem(net: NetworkSpec, nets: Map<string, NetworkSpec>): string | undefined {
  if (!validId(net.id)) return 'invalid network ID';
  if (nets.has(net.id)) return 'duplicate network ID';
  if (!Number.isInteger(net.vni) || net.vni < 1 || net.vni > 16777215) return `VNI ${net.vni} out of range`;
  for (const other of nets.values()) if (other.vni === net.vni) return `VNI ${net.vni} already used by ${other.id}`;
  try {
    if (!contains(parseCidr(net.subnet), ipToInt(net.gateway))) return `gateway ${net.gateway} is outside ${net.subnet}`;
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
