import { ipToInt } from '../dataplane/ipv4.js';
import type { LoadBalancerSpec, NetworkSpec, PublishedPortSpec, SandboxSpec } from '../dataplane/model.js';

/**
 * Pure decisions of the node's load balancing (Docker's service_linux.go, on nftables): which
 * load balancers each local sandbox gets from the service endpoints the node knows (its own
 * and the other nodes' gossip entries). No I/O, no time.
 *
 * - A task's sandbox balances every VIP of every service on each of its networks (not the
 *   ingress network, which carries only the routing mesh) over that service's endpoints on
 *   that network: the client's own namespace does the DNAT, so a VIP costs no extra hop.
 * - The ingress sandbox (Docker's ingress_sbox) balances every service's published ports over
 *   the service's endpoints on the ingress network.
 */

/** One endpoint of a service on one network, local or remote, with what it was announced with. */
export interface ServiceEndpoint {
  readonly network: string;
  readonly ip: string;
  readonly serviceId: string;
  readonly vip?: string | undefined;
  readonly ports?: readonly PublishedPortSpec[] | undefined;
}

interface ServiceOnNetwork {
  vip: string | undefined;
  ports: readonly PublishedPortSpec[];
  readonly backends: Set<string>;
}

/** network -> service ID -> frontends and backends; endpoints of no service (an ingress sandbox's) are no backend. */
function servicesByNetwork(endpoints: readonly ServiceEndpoint[]): Map<string, Map<string, ServiceOnNetwork>> {
  const out = new Map<string, Map<string, ServiceOnNetwork>>();
  // Sorted, so that when two tasks of one service disagree (mid-update) the choice is stable.
  const sorted = [...endpoints].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  for (const ep of sorted) {
    if (ep.serviceId === '') continue;
    let services = out.get(ep.network);
    if (services === undefined) out.set(ep.network, (services = new Map()));
    let s = services.get(ep.serviceId);
    if (s === undefined) services.set(ep.serviceId, (s = { vip: undefined, ports: [], backends: new Set() }));
    s.backends.add(ep.ip);
    s.vip ??= ep.vip;
    if (s.ports.length === 0 && ep.ports !== undefined) s.ports = ep.ports;
  }
  return out;
}

const sortedIps = (ips: Iterable<string>): string[] => [...ips].sort((a, b) => ipToInt(a) - ipToInt(b));

/**
 * The sandboxes with their load balancers, and the one whose ID is `ingressSandboxId` marked
 * as the ingress sandbox. A sandbox with nothing to balance is returned as it was, so its
 * dataplane fingerprint does not change.
 */
export function withLoadBalancers(
  sandboxes: readonly SandboxSpec[],
  networks: readonly NetworkSpec[],
  endpoints: readonly ServiceEndpoint[],
  ingressSandboxId: string | undefined,
): SandboxSpec[] {
  const ingressNetworks = new Set(networks.filter((n) => n.ingress).map((n) => n.id));
  const services = servicesByNetwork(endpoints);
  return sandboxes.map((sb) => {
    const lbs: LoadBalancerSpec[] = [];
    const ingress = sb.id === ingressSandboxId;
    for (const network of new Set(sb.endpoints.map((e) => e.network))) {
      const onNetwork = services.get(network);
      if (onNetwork === undefined) continue;
      for (const serviceId of [...onNetwork.keys()].sort()) {
        const s = onNetwork.get(serviceId)!;
        if (ingress && ingressNetworks.has(network) && s.ports.length > 0) {
          lbs.push({ service: serviceId, ports: s.ports, backends: sortedIps(s.backends) });
        } else if (!ingress && !ingressNetworks.has(network) && s.vip !== undefined) {
          lbs.push({ service: serviceId, vip: s.vip, backends: sortedIps(s.backends) });
        }
      }
    }
    if (!ingress && lbs.length === 0) return sb;
    return { ...sb, ...(ingress ? { ingress: true } : {}), ...(lbs.length > 0 ? { loadBalancers: lbs } : {}) };
  });
}
