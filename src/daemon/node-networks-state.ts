import { z } from 'zod';
import type { DesiredState, RemoteEndpoint } from '../dataplane/model.js';
import type { TableEntryView } from '../gossip/index.js';
import type { MemberView } from '../gossip/index.js';
import type { LocalDesired, LocalEndpoint } from '../worker/sandbox/dataplane-sandboxes.js';
import { withLoadBalancers, type ServiceEndpoint } from './load-balancing.js';
import type { LocalNetworkEndpoint, LocalNetworkView } from './local-network-view.js';

/**
 * Pure decisions of the node's networks (Docker's networkdb as libnetwork's overlay driver
 * uses it): which gossip networks to be in and which endpoint-table entries to hold, given
 * the local endpoints; which remote endpoints the table events amount to; the dataplane's
 * whole desired state; the `network inspect --verbose` view. No I/O, no time.
 */

const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'an IPv4 address');

/** An endpoint-table value as it comes off the wire: checked before it can reach the kernel. */
const endpointValueSchema = z.object({
  taskId: z.string().min(1).max(128),
  taskName: z.string().max(1024),
  serviceId: z.string().max(128),
  serviceName: z.string().max(1024),
  ip: ipv4,
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a lower-case MAC address'),
  vtep: ipv4,
  nodeId: z.string().min(1).max(128),
  vip: ipv4.optional(),
  ports: z
    .array(z.object({ protocol: z.enum(['tcp', 'udp']), published: z.number().int().min(1).max(65535), target: z.number().int().min(1).max(65535) }))
    .max(256)
    .optional(),
});

export function encodeEndpoint(ep: LocalNetworkEndpoint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(ep));
}

/** The endpoint in a table value, or why it is not one. */
export function decodeEndpoint(value: Uint8Array): LocalNetworkEndpoint | string {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch {
    return 'not UTF-8 JSON';
  }
  const r = endpointValueSchema.safeParse(json);
  if (!r.success) return r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return r.data;
}

/** What this node publishes: network -> (key = task ID -> JSON value); a network is joined iff it is here. */
export type Publication = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function publication(local: readonly LocalEndpoint[], self: { readonly nodeId: string; readonly vtep: string }): Publication {
  const out = new Map<string, Map<string, string>>();
  for (const ep of local) {
    let entries = out.get(ep.network);
    if (entries === undefined) out.set(ep.network, (entries = new Map()));
    const value: LocalNetworkEndpoint = {
      taskId: ep.taskId,
      taskName: ep.owner?.taskName ?? '',
      serviceId: ep.owner?.serviceId ?? '',
      serviceName: ep.owner?.serviceName ?? '',
      ip: ep.ip,
      mac: ep.mac,
      vtep: self.vtep,
      nodeId: self.nodeId,
    };
    const vip = ep.owner?.vips?.find((v) => v.network === ep.network)?.ip;
    const ports = ep.owner?.ports ?? [];
    const full: LocalNetworkEndpoint = { ...value, ...(vip !== undefined ? { vip } : {}), ...(ports.length > 0 ? { ports } : {}) };
    entries.set(ep.taskId, JSON.stringify(full));
  }
  return out;
}

export interface GossipSteps {
  readonly join: readonly string[];
  readonly put: ReadonlyArray<{ readonly network: string; readonly key: string; readonly value: string }>;
  readonly delete: ReadonlyArray<{ readonly network: string; readonly key: string }>;
  readonly leave: readonly string[];
}

/**
 * From what gossip holds (`applied`) to `desired`, performed in this order: join networks,
 * put entries, delete entries (also those of networks being left, so peers get tombstones
 * rather than waiting for the leave), leave networks.
 */
export function gossipSteps(desired: Publication, applied: Publication): GossipSteps {
  const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
  const join = sorted(desired.keys()).filter((n) => !applied.has(n));
  const leave = sorted(applied.keys()).filter((n) => !desired.has(n));
  const put: Array<{ network: string; key: string; value: string }> = [];
  const del: Array<{ network: string; key: string }> = [];
  for (const network of sorted(desired.keys())) {
    const want = desired.get(network)!;
    const have = applied.get(network);
    for (const key of sorted(want.keys())) if (have?.get(key) !== want.get(key)) put.push({ network, key, value: want.get(key)! });
  }
  for (const network of sorted(applied.keys())) {
    const want = desired.get(network);
    for (const key of sorted(applied.get(network)!.keys())) if (want?.has(key) !== true) del.push({ network, key });
  }
  return { join, put, delete: del, leave };
}

/** A table event as this needs it (a TableChange of the endpoint table). */
export interface EndpointTableChange {
  readonly action: 'create' | 'update' | 'delete';
  readonly network: string;
  readonly key: string;
  readonly owner: string;
  readonly value: Uint8Array;
}

export type ApplyResult = { readonly changed: boolean; readonly invalid?: string };

/**
 * The other nodes' endpoints, folded from endpoint-table events (creates, updates, and the
 * deletes gossip makes when an entry is removed, its owner dies or leaves the network, or
 * this node leaves it). Two entries with one address in one network (a stale one and its
 * successor) give the most recently announced one.
 */
export class RemoteEndpointTable {
  private readonly rows = new Map<string, Map<string, { readonly endpoint: LocalNetworkEndpoint; readonly seq: number }>>();
  private seq = 0;

  constructor(private readonly self: string) {}

  apply(c: EndpointTableChange): ApplyResult {
    if (c.owner === this.self) return { changed: false };
    let rows = this.rows.get(c.network);
    const had = rows?.delete(c.key) === true;
    if (c.action === 'delete') {
      if (rows?.size === 0) this.rows.delete(c.network);
      return { changed: had };
    }
    const ep = decodeEndpoint(c.value);
    const invalid = typeof ep === 'string' ? ep : ep.nodeId !== c.owner ? `nodeId ${ep.nodeId} is not the entry's owner ${c.owner}` : undefined;
    if (typeof ep === 'string' || invalid !== undefined) {
      if (rows?.size === 0) this.rows.delete(c.network);
      return { changed: had, invalid: invalid ?? '' };
    }
    if (rows === undefined) this.rows.set(c.network, (rows = new Map()));
    rows.set(c.key, { endpoint: ep, seq: ++this.seq });
    return { changed: true };
  }

  clear(): void {
    this.rows.clear();
  }

  get size(): number {
    let n = 0;
    for (const r of this.rows.values()) n += r.size;
    return n;
  }

  /** The dataplane's remote endpoints, one per (network, IP), sorted. */
  remotes(): RemoteEndpoint[] {
    return this.endpoints().map(({ network, endpoint: e }) => ({ network, ip: e.ip, mac: e.mac, vtep: e.vtep }));
  }

  /** The other nodes' endpoints with their services, one per (network, IP): the newest announcement of an address. */
  endpoints(): Array<{ readonly network: string; readonly endpoint: LocalNetworkEndpoint }> {
    const out: Array<{ network: string; endpoint: LocalNetworkEndpoint }> = [];
    for (const network of [...this.rows.keys()].sort()) {
      const byIp = new Map<string, { readonly endpoint: LocalNetworkEndpoint; readonly seq: number }>();
      for (const row of this.rows.get(network)!.values()) {
        const prev = byIp.get(row.endpoint.ip);
        if (prev === undefined || row.seq > prev.seq) byIp.set(row.endpoint.ip, row);
      }
      for (const ip of [...byIp.keys()].sort()) out.push({ network, endpoint: byIp.get(ip)!.endpoint });
    }
    return out;
  }
}

/**
 * The node's whole desired dataplane state: the local sandboxes and networks, and the remote
 * endpoints of those networks (remotes of networks with no local endpoint have nowhere to go;
 * an address a local sandbox holds stays local).
 */
export function composeDesired(local: LocalDesired, remotes: readonly RemoteEndpoint[], services: readonly ServiceEndpoint[] = []): DesiredState {
  const nets = new Set(local.networks.map((n) => n.id));
  const held = new Set(local.sandboxes.flatMap((s) => s.endpoints.map((ep) => `${ep.network} ${ep.ip}`)));
  return {
    networks: local.networks,
    sandboxes: withLoadBalancers(local.sandboxes, local.networks, services, local.ingressSandbox),
    remotes: remotes.filter((r) => nets.has(r.network) && !held.has(`${r.network} ${r.ip}`)),
  };
}

/** Every service endpoint the node knows: its own (with their owners' VIPs and ports) and the other nodes' live entries. */
export function serviceEndpoints(local: readonly LocalEndpoint[], remote: ReadonlyArray<{ readonly network: string; readonly endpoint: LocalNetworkEndpoint }>): ServiceEndpoint[] {
  const out: ServiceEndpoint[] = local.map((ep) => ({
    network: ep.network,
    ip: ep.ip,
    serviceId: ep.owner?.serviceId ?? '',
    vip: ep.owner?.vips?.find((v) => v.network === ep.network)?.ip,
    ports: ep.owner?.ports,
  }));
  for (const { network, endpoint: e } of remote) out.push({ network, ip: e.ip, serviceId: e.serviceId, vip: e.vip, ports: e.ports });
  return out;
}

/** The `network inspect --verbose` view: the network's live members and its table's valid entries. */
export function networkView(localNodeId: string, members: readonly MemberView[], entries: readonly TableEntryView[]): LocalNetworkView {
  const endpoints: LocalNetworkEndpoint[] = [];
  for (const e of entries) {
    const ep = decodeEndpoint(e.value);
    if (typeof ep !== 'string') endpoints.push(ep);
  }
  return {
    localNodeId,
    peers: members.map((m) => ({ nodeId: m.id, addr: m.addr })),
    endpoints: endpoints.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0)),
  };
}

/**
 * The remote endpoints to program while a restarted daemon's gossip has not caught up yet:
 * the live ones, plus those the kernel was programmed with before the restart (`carried`)
 * where no live one has that network and address. So a restart cuts no connection; the
 * carried ones go when the catch-up time is over.
 */
export function withCarried(live: readonly RemoteEndpoint[], carried: readonly RemoteEndpoint[]): RemoteEndpoint[] {
  const key = (r: RemoteEndpoint): string => `${r.network} ${r.ip}`;
  const seen = new Set(live.map(key));
  return [...live, ...carried.filter((r) => !seen.has(key(r)))];
}
