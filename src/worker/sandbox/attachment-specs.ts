import { contains, intToIp, ipToInt, isIpv4, maskOf, parseCidr } from '../../dataplane/ipv4.js';
import type { EndpointSpec, NetworkSpec } from '../../dataplane/model.js';
import { validId } from '../../dataplane/naming.js';
import type { NetworkAttachment } from '../../objects/index.js';

/**
 * Pure: a task's network attachments (as the managers send them, each with its Network as
 * allocated) -> the dataplane's endpoint and network specs. Everything here comes from the
 * wire, so every field is checked and a bad one is named, never guessed around.
 */

/** Docker's driver option that overrides an overlay's MTU. */
export const MTU_OPTION = 'com.docker.network.driver.mtu';
/** The least MTU Linux accepts on an IPv4 interface (RFC 791's 68). */
const MIN_MTU = 68;
const MAX_MTU = 65535;
const MAX_VNI = 16777215;

export interface TaskNetworking {
  /** One per attachment, in attachment order (eth0, eth1, ...). */
  readonly endpoints: readonly EndpointSpec[];
  /** The networks of those endpoints, one each. */
  readonly networks: readonly NetworkSpec[];
}

export type AttachmentCheck =
  | { readonly ok: true; readonly value: TaskNetworking }
  | { readonly ok: false; readonly networkId: string; readonly reason: string };

export const NO_NETWORKING: TaskNetworking = { endpoints: [], networks: [] };

/** Docker's MAC for an endpoint: 02:42 then the four bytes of its IPv4 address. */
export function macFromIp(ip: string): string {
  const v = ipToInt(ip);
  return [0x02, 0x42, (v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function isCidr(s: string): boolean {
  const [ip, len, extra] = s.split('/');
  return extra === undefined && ip !== undefined && isIpv4(ip) && len !== undefined && /^\d{1,2}$/.test(len) && Number(len) <= 32;
}

/** The network spec an attachment's Network gives, or why there is none. */
function networkSpecOf(att: NetworkAttachment): NetworkSpec | string {
  const net = att.network;
  if (net === undefined || net === null) return 'the attachment carries no network object';
  if (net.id !== att.networkId) return `the attachment names network ${att.networkId} but carries ${JSON.stringify(net.id)}`;
  if (!Number.isInteger(net.vni) || net.vni < 1 || net.vni > MAX_VNI) return `VNI ${String(net.vni)} is not in 1..${MAX_VNI}`;
  const cfg = net.ipam?.configs?.[0];
  if (cfg === undefined) return 'the network has no allocated subnet (ipam.configs is empty)';
  if (!isCidr(cfg.subnet)) return `subnet ${JSON.stringify(cfg.subnet)} is not an IPv4 CIDR`;
  const subnet = parseCidr(cfg.subnet);
  if (subnet.len > 30) return `subnet ${cfg.subnet} is too small for a gateway and an endpoint`;
  if (!isIpv4(cfg.gateway)) return `gateway ${JSON.stringify(cfg.gateway)} is not an IPv4 address`;
  if (!contains(subnet, ipToInt(cfg.gateway))) return `gateway ${cfg.gateway} is outside ${cfg.subnet}`;
  const opts = net.spec?.driverOptions ?? {};
  const mtuText = opts[MTU_OPTION];
  let mtu: number | undefined;
  if (mtuText !== undefined && mtuText !== '') {
    mtu = Number(mtuText);
    if (!/^\d+$/.test(mtuText) || mtu < MIN_MTU || mtu > MAX_MTU) return `option ${MTU_OPTION}=${JSON.stringify(mtuText)} is not an MTU in ${MIN_MTU}..${MAX_MTU}`;
  }
  const normalized = `${intToIp(subnet.base)}/${subnet.len}`;
  // Sealed overlays are not plumbed yet: the network is built in clear (the brief's encrypted=false).
  return { id: net.id, vni: net.vni, subnet: normalized, gateway: cfg.gateway, ...(mtu !== undefined ? { mtu } : {}), encrypted: false, ingress: net.spec?.ingress === true };
}

/** The endpoint an attachment gives on its network, or why there is none. */
function endpointOf(att: NetworkAttachment, net: NetworkSpec): EndpointSpec | string {
  const addr = att.addresses?.[0];
  if (addr === undefined || addr === '') return 'the attachment has no address';
  if (!isCidr(addr)) return `address ${JSON.stringify(addr)} is not an IPv4 CIDR such as 10.0.1.5/24`;
  const [ipText] = addr.split('/') as [string];
  const ip = ipToInt(ipText);
  const subnet = parseCidr(net.subnet);
  if (parseCidr(addr).len !== subnet.len || !contains(subnet, ip)) return `address ${addr} is not in subnet ${net.subnet}`;
  if (ipText === net.gateway) return `address ${addr} is the network's gateway`;
  const host = (ip & ~maskOf(subnet.len)) >>> 0;
  if (host === 0 || host === (~maskOf(subnet.len) >>> 0)) return `address ${addr} is the subnet's network or broadcast address`;
  return { network: net.id, ip: ipText, mac: macFromIp(ipText) };
}

/** A task's endpoints and networks from its attachments (attachment order kept), or the first problem. */
export function taskNetworking(attachments: readonly NetworkAttachment[]): AttachmentCheck {
  const endpoints: EndpointSpec[] = [];
  const networks: NetworkSpec[] = [];
  for (const att of attachments) {
    const networkId = typeof att?.networkId === 'string' ? att.networkId : '';
    const fail = (reason: string): AttachmentCheck => ({ ok: false, networkId: networkId === '' ? '(none)' : networkId, reason });
    if (!validId(networkId)) return fail(`network ID ${JSON.stringify(networkId)} cannot name a namespace`);
    if (networks.some((n) => n.id === networkId)) return fail('the task is attached to this network twice');
    const net = networkSpecOf(att);
    if (typeof net === 'string') return fail(net);
    const clash = networks.find((n) => n.vni === net.vni);
    if (clash !== undefined) return fail(`VNI ${net.vni} is also network ${clash.id}'s`);
    const ep = endpointOf(att, net);
    if (typeof ep === 'string') return fail(ep);
    networks.push(net);
    endpoints.push(ep);
  }
  return { ok: true, value: { endpoints, networks } };
}

function sameNetwork(a: NetworkSpec, b: NetworkSpec): boolean {
  return a.vni === b.vni && a.subnet === b.subnet && a.gateway === b.gateway && a.mtu === b.mtu && a.encrypted === b.encrypted && a.ingress === b.ingress;
}

/**
 * Why `net` (a task's copy of a network) cannot join the networks this node already plumbs
 * for other tasks: the same ID with other parameters (a node has one overlay namespace per
 * network), or another network's VNI (a node has one VXLAN device per VNI).
 */
export function networkConflict(net: NetworkSpec, plumbed: Iterable<NetworkSpec>): string | undefined {
  for (const other of plumbed) {
    if (other.id === net.id && !sameNetwork(other, net)) {
      return `this node already plumbs network ${net.id} with VNI ${other.vni}, subnet ${other.subnet}, gateway ${other.gateway}${other.mtu !== undefined ? `, MTU ${other.mtu}` : ''}`;
    }
    if (other.id !== net.id && other.vni === net.vni) return `VNI ${net.vni} is already network ${other.id}'s on this node`;
  }
  return undefined;
}

/**
 * The node's overlay networks from its tasks' networking, in task order: the first copy of a
 * network wins, and a copy that conflicts with the ones before is left out, with its task's
 * endpoint on it (`conflicts`, by task: why). ensure() refuses conflicts, so only restored
 * tasks can produce one; their sandboxes are kept, without the conflicting endpoint.
 */
export function nodeNetworks(tasks: Iterable<readonly [string, TaskNetworking]>): {
  networks: NetworkSpec[];
  endpoints: Map<string, EndpointSpec[]>;
  conflicts: Map<string, string>;
} {
  const byId = new Map<string, NetworkSpec>();
  const endpoints = new Map<string, EndpointSpec[]>();
  const conflicts = new Map<string, string>();
  for (const [taskId, tn] of tasks) {
    const kept: EndpointSpec[] = [];
    for (const ep of tn.endpoints) {
      const net = tn.networks.find((n) => n.id === ep.network);
      const why = net === undefined ? `no network ${ep.network} for its endpoint` : networkConflict(net, byId.values());
      if (why !== undefined || net === undefined) {
        conflicts.set(taskId, why ?? '');
        continue;
      }
      if (!byId.has(net.id)) byId.set(net.id, net);
      kept.push(ep);
    }
    endpoints.set(taskId, kept);
  }
  return { networks: [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), endpoints, conflicts };
}
