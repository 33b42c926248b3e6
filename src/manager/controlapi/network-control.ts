import { TsswarmError, isTsswarmError } from '../../errors/index.js';
import type { DeepPartial, Network, NetworkSpec, Service, Task } from '../../objects/index.js';
import {
  VXLAN_ID_OPTION, allocateNetwork, holdsAddresses, parseAllocatorConfig, parsePoolConfig, poolConfigOf, publishesIngress, type AllocatorConfig,
} from '../allocator/index.js';
import type { MemoryStore, ReadTx, WriteTx } from '../store/index.js';
import { INGRESS_NETWORK_NAME, ingressNetworkSpec, normalizeNetworkSpec, requestedVni } from './network-spec.js';
import { newObjectId } from './object-id.js';

/**
 * Finds a network as Docker does: exact ID, then exact name (case-insensitive), then a unique
 * ID prefix. Throws NETWORK_NOT_FOUND or NETWORK_AMBIGUOUS.
 */
export function resolveNetwork(tx: ReadTx, ref: string): Network {
  return tx.get('network', ref) ?? tx.getByName('network', ref) ?? byUniquePrefix(tx.list('network'), ref);
}

/** resolveNetwork over a list (a worker's networks, as its tasks' attachments carry them). */
export function resolveNetworkIn(networks: readonly Network[], ref: string): Network {
  const name = ref.toLowerCase();
  return networks.find((n) => n.id === ref) ?? networks.find((n) => n.spec.annotations.name.toLowerCase() === name) ?? byUniquePrefix(networks, ref);
}

function byUniquePrefix(networks: readonly Network[], ref: string): Network {
  const matches = ref === '' ? [] : networks.filter((n) => n.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new TsswarmError('NETWORK_NOT_FOUND', { ref });
  throw new TsswarmError('NETWORK_AMBIGUOUS', { ref, count: matches.length });
}

/**
 * The services attached to a network, by name, sorted: those whose spec names it, and on the
 * ingress network those that publish ports through the routing mesh (being removed: not).
 */
export function attachedServices(services: readonly Service[], network: Network): string[] {
  return services
    .filter((s) => s.spec.task.networks.some((n) => n.target === network.id) || (network.spec.ingress && !s.pendingDelete && publishesIngress(s.spec.endpoint)))
    .map((s) => s.spec.annotations.name)
    .sort();
}

/**
 * Who keeps a network in use: services whose spec names it, and services whose tasks still
 * hold an address on it (a task of a service that left the network runs until replaced).
 */
export function networkUsers(services: readonly Service[], tasks: readonly Task[], network: Network): string[] {
  const names = new Set(attachedServices(services, network));
  const byId = new Map(services.map((s) => [s.id, s.spec.annotations.name]));
  for (const t of tasks) {
    if (holdsAddresses(t) && t.networks.some((a) => a.networkId === network.id)) names.add(byId.get(t.serviceId) ?? t.serviceAnnotations?.name ?? t.serviceId);
  }
  return [...names].sort();
}

/** The cluster's pools (set at init with --default-addr-pool), else the allocator's defaults. */
function poolsOf(tx: ReadTx, config: AllocatorConfig): ReturnType<typeof poolConfigOf> {
  const cluster = tx.list('cluster')[0];
  if (cluster !== undefined && cluster.defaultAddressPools.length > 0 && cluster.subnetSize > 0) {
    return parsePoolConfig(cluster.defaultAddressPools, cluster.subnetSize);
  }
  return poolConfigOf(config);
}

/**
 * Allocates `spec`'s subnet, gateway and VNI next to the stored networks and creates the
 * Network in `tx`. Throws NETWORK_NAME_IN_USE, NETWORK_INGRESS_EXISTS or the allocator's
 * IPAM_* codes, having created nothing.
 */
function createAllocated(tx: WriteTx, id: string, spec: NetworkSpec, config: AllocatorConfig, vniCursor?: number): Network {
  const existing = tx.getByName('network', spec.annotations.name);
  if (existing !== undefined) throw new TsswarmError('NETWORK_NAME_IN_USE', { name: spec.annotations.name, id: existing.id });
  const networks = tx.list('network');
  const ingress = networks.find((n) => n.spec.ingress);
  if (spec.ingress && ingress !== undefined) throw new TsswarmError('NETWORK_INGRESS_EXISTS', { name: ingress.spec.annotations.name });
  const ipam = spec.ipam?.configs[0];
  const optional = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const allocated = allocateNetwork(networks, {
    id, name: spec.annotations.name,
    subnet: optional(ipam?.subnet), gateway: optional(ipam?.gateway), ipRange: optional(ipam?.range), vni: requestedVni(spec),
  }, {
    pools: poolsOf(tx, config),
    vniRange: { min: config.vxlanIdMin, max: config.vxlanIdMax },
    vniCursor,
  });
  tx.create('network', {
    id,
    spec,
    vni: allocated.vni,
    driverState: { [VXLAN_ID_OPTION]: String(allocated.vni) },
    ipam: { driver: spec.ipam?.driver ?? 'default', configs: [{ subnet: allocated.subnet, range: allocated.range, gateway: allocated.gateway }] },
    pendingDelete: false,
  });
  return tx.get('network', id)!;
}

/**
 * The swarm's ingress network as Docker makes it at `swarm init`: named "ingress", overlay,
 * `ingress: true`, its subnet the first free block of the cluster's pools (normally
 * 10.0.0.0/24) and the first free VNI (normally 4096). Created in the caller's transaction,
 * which for init is the one that creates the Cluster (so it must already be in `tx`, or the
 * allocator's default pools are used). Throws as createAllocated.
 */
export function createIngressNetwork(tx: WriteTx, config: AllocatorConfig = parseAllocatorConfig({})): Network {
  return createAllocated(tx, newObjectId(), ingressNetworkSpec(), config);
}

export { INGRESS_NETWORK_NAME };

/**
 * The network half of the Control API, answered by the leader from the replicated store:
 * create (validated and allocated in one transaction), list, inspect, remove. Writes that
 * decide from the set of networks (a new subnet or VNI, a removal while services attach) run
 * one at a time through `serialize`, which ServiceControl shares for its network checks, so a
 * network cannot be removed between a service's check and its write.
 */
export class NetworkControl {
  private queue: Promise<unknown> = Promise.resolve();
  /** Where the next VNI search starts (a hint; the store's networks say which are in use). */
  private vniCursor: number | undefined;

  constructor(
    private readonly store: MemoryStore,
    private readonly config: AllocatorConfig = parseAllocatorConfig({}),
  ) {}

  /** Runs `fn` once every network write this manager started before it has ended. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async createNetwork(input: DeepPartial<NetworkSpec>): Promise<Network> {
    const spec = normalizeNetworkSpec(input);
    const id = newObjectId();
    return this.serialize(async () => {
      try {
        const network = await this.store.update((tx) => createAllocated(tx, id, spec, this.config, this.vniCursor));
        if (requestedVni(spec) === undefined) this.vniCursor = network.vni + 1;
        return network;
      } catch (err) {
        // Two creates with one name racing (another manager's leader term): the store decides.
        if (isTsswarmError(err, 'STORE_NAME_CONFLICT')) throw new TsswarmError('NETWORK_NAME_IN_USE', { name: spec.annotations.name, id: String(err.details.id ?? '') });
        throw err;
      }
    });
  }

  async listNetworks(): Promise<Network[]> {
    return this.store.viewLinearizable((tx) => tx.list('network'));
  }

  /** The network and the names of the services attached to it. */
  async getNetwork(ref: string): Promise<{ network: Network; services: string[] }> {
    return this.store.viewLinearizable((tx) => {
      const network = resolveNetwork(tx, ref);
      return { network, services: attachedServices(tx.list('service'), network) };
    });
  }

  /**
   * `network rm`: all or nothing (an unknown or busy network among several removes none).
   * The ingress network is busy while a service publishes ports through the routing mesh
   * (nodes' load-balancer addresses on it do not count: they go with it).
   * Throws NETWORK_NOT_FOUND, NETWORK_AMBIGUOUS or NETWORK_IN_USE naming the services.
   */
  async removeNetworks(refs: readonly string[]): Promise<string[]> {
    return this.serialize(() => this.store.update((tx) => {
      const networks = refs.map((ref) => resolveNetwork(tx, ref));
      const services = tx.list('service');
      const tasks = tx.list('task');
      for (const n of networks) {
        const users = networkUsers(services, tasks, n);
        if (users.length > 0) {
          throw new TsswarmError('NETWORK_IN_USE', {
            name: n.spec.annotations.name,
            users: `${users.length === 1 ? 'service' : 'services'} ${users.join(', ')}`,
            services: users.join(','),
          });
        }
      }
      const removed = new Set<string>();
      for (const n of networks) {
        if (removed.has(n.id)) continue;
        tx.delete('network', n.id);
        removed.add(n.id);
      }
      return networks.map((n) => n.spec.annotations.name);
    }));
  }
}
