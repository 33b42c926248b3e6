import type { GetNetworkResponse, ServiceSummary } from '../../../manager/controlapi/messages.js';
import type { Network } from '../../../objects/index.js';

/**
 * How `network ls` and `network inspect` show a network (pure): Docker's columns and Docker's
 * JSON field names, from the Control API's answers.
 */

/** Docker prints IDs cut to 12 characters unless --no-trunc. */
export const shortNetworkId = (id: string): string => id.slice(0, 12);

/** Swarm networks span the cluster: Docker's scope "swarm". */
export const SWARM_SCOPE = 'swarm';

/** One `network ls` row with Docker's column names (the JSON form of --format json). */
export interface NetworkRow {
  ID: string;
  Name: string;
  Driver: string;
  Scope: string;
}

export function networkRow(n: Network): NetworkRow {
  return { ID: n.id, Name: n.spec.annotations.name, Driver: n.spec.driver, Scope: SWARM_SCOPE };
}

/** Docker's `network inspect` object (the fields a swarm overlay has). */
export interface InspectedNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: null;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Peers?: Array<{ Name: string; IP: string }>;
  Services?: Record<string, { VIP: string; Ports: string[]; LocalLBIndex: number; Tasks: Array<{ Name: string; EndpointID: string; EndpointIP: string; Info: Record<string, string> }> }>;
}

/** "10.0.1.2/24" -> "10.0.1.2"; "10.77.0.1:7946" -> "10.77.0.1". */
const hostOf = (addr: string): string => addr.replace(/\/\d+$/, '').replace(/^\[?([^\]]*?)\]?:\d+$/, '$1');

/**
 * A network as Docker's inspect prints it. With the verbose answer (this node's gossip view)
 * it has "Peers" (the nodes in the network) and "Services" (each service's VIP, from
 * `services`, and the task endpoints this node's table holds).
 */
export function inspectNetwork(res: GetNetworkResponse, verbose: boolean, services: readonly ServiceSummary[] = []): InspectedNetwork {
  const n = res.network;
  const allocated = n.ipam?.configs ?? [];
  const out: InspectedNetwork = {
    Name: n.spec.annotations.name,
    Id: n.id,
    Created: new Date(n.meta.createdAtMs).toISOString(),
    Scope: SWARM_SCOPE,
    Driver: n.spec.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: n.ipam?.driver || 'default',
      Options: null,
      Config: allocated.map((c) => ({ Subnet: c.subnet, Gateway: c.gateway, ...(c.range === '' ? {} : { IPRange: c.range }) })),
    },
    Internal: n.spec.internal,
    Attachable: n.spec.attachable,
    Ingress: n.spec.ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: null,
    Options: { ...n.spec.driverOptions, ...n.driverState },
    Labels: { ...n.spec.annotations.labels },
  };
  if (!verbose) return out;
  out.Peers = res.peers.map((p) => ({ Name: p.nodeId, IP: hostOf(p.addr) }));
  const vips = new Map<string, string>();
  for (const { service } of services) {
    const vip = service.endpoint?.virtualIps.find((v) => v.networkId === n.id);
    if (vip !== undefined) vips.set(service.spec.annotations.name, hostOf(vip.addr));
  }
  const byService: NonNullable<InspectedNetwork['Services']> = {};
  for (const e of res.endpoints) {
    const entry = (byService[e.serviceName] ??= { VIP: vips.get(e.serviceName) ?? '', Ports: [], LocalLBIndex: 0, Tasks: [] });
    entry.Tasks.push({ Name: e.taskName, EndpointID: e.taskId, EndpointIP: hostOf(e.ip), Info: { 'Host IP': e.vtep } });
  }
  for (const name of res.services) if (byService[name] === undefined && vips.has(name)) byService[name] = { VIP: vips.get(name)!, Ports: [], LocalLBIndex: 0, Tasks: [] };
  for (const entry of Object.values(byService)) entry.Tasks.sort((a, b) => a.Name.localeCompare(b.Name));
  out.Services = byService;
  return out;
}
