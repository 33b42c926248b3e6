/**
 * The cluster's IPAM, run by the leader's allocator: gives each network a subnet (explicit or
 * from the pools), and each task, VIP and load-balancer endpoint an address in it. Strings in,
 * strings out, as the API and the store carry them; numbers and bitmaps inside.
 *
 * Every method either succeeds or throws with the state unchanged, so a failed allocation never
 * leaves half a network behind.
 */
import { TsswarmError } from '../../../errors/index.js';
import { formatCidr, parseCidr } from './cidr.js';
import type { IpamState, NetworkIpamState } from './ipam-state.js';
import { formatIpv4, parseIpv4 } from './ipv4.js';
import { NetworkAddresses } from './network-addresses.js';
import { SubnetPool, type SubnetPoolConfig } from './subnet-pool.js';
import { invalid } from '../invalid.js';

/** What `network create` asks of the IPAM (flags as typed; absent means default). */
export interface NetworkRequest {
  readonly id: string;
  /** For messages; the ID is used when absent. */
  readonly name?: string | undefined;
  /** --subnet; absent: the first free subnet of the pools. */
  readonly subnet?: string | undefined;
  /** --gateway; absent: the first usable address. Needs --subnet. */
  readonly gateway?: string | undefined;
  /** --ip-range; absent: the whole subnet. Needs --subnet. */
  readonly ipRange?: string | undefined;
}

/** A network's addressing as `network inspect` shows it. */
export interface NetworkAllocation {
  readonly id: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly ipRange?: string | undefined;
  /** Addresses automatic allocation can hand out on an empty network. */
  readonly capacity: number;
  /** Addresses allocated now. */
  readonly allocated: number;
}

interface Network {
  readonly name: string | undefined;
  readonly addresses: NetworkAddresses;
}

export class Ipam {
  private readonly pool: SubnetPool;
  private readonly networks = new Map<string, Network>();

  constructor(config: SubnetPoolConfig) {
    this.pool = new SubnetPool(config);
  }

  /** Rebuilds the IPAM from the store; restore(serialize()) behaves exactly as the original. */
  static restore(config: SubnetPoolConfig, state: IpamState): Ipam {
    const ipam = new Ipam(config);
    for (const network of state.networks) ipam.restoreNetwork(network);
    ipam.setHostRoutes(state.hostRoutes ?? []);
    return ipam;
  }

  /** Replaces the hosts' routes (e.g. "192.168.1.0/24") that new subnets must not overlap. */
  setHostRoutes(routes: readonly string[]): void {
    this.pool.setHostRoutes(routes.map((route) => parseCidr(route, 'host route')));
  }

  /** Existing networks that overlap a host's route (e.g. one learned after the network was made). */
  routeConflicts(): { network: string; subnet: string; route: string }[] {
    return this.pool.routeConflicts().map(({ network, subnet, route }) => ({ network, subnet: formatCidr(subnet), route: formatCidr(route) }));
  }

  /** Throws IPAM_INVALID, IPAM_SUBNET_OVERLAP or IPAM_POOL_EXHAUSTED. */
  createNetwork(request: NetworkRequest): NetworkAllocation {
    this.checkNew(request.id);
    const label = request.name ?? request.id;
    let addresses: NetworkAddresses;
    if (request.subnet === undefined) {
      for (const [flag, value] of [['--gateway', request.gateway], ['--ip-range', request.ipRange]] as const) {
        if (value !== undefined) {
          throw invalid(`${flag} ${JSON.stringify(value)} without --subnet`, `${flag} must lie in the network's subnet, which is not chosen yet`, `give --subnet too, or leave ${flag} out`);
        }
      }
      const subnet = this.pool.allocate(request.id, label);
      addresses = new NetworkAddresses(label, { subnet });
    } else {
      addresses = new NetworkAddresses(label, {
        subnet: parseCidr(request.subnet, '--subnet'),
        gateway: request.gateway === undefined ? undefined : parseIpv4(request.gateway, '--gateway'),
        ipRange: request.ipRange === undefined ? undefined : parseCidr(request.ipRange, '--ip-range'),
      });
      this.pool.claim(request.id, label, addresses.subnet);
    }
    this.networks.set(request.id, { name: request.name, addresses });
    return this.describe(request.id, addresses);
  }

  /** Frees the network's subnet and all its addresses; false if it was unknown. */
  removeNetwork(networkId: string): boolean {
    this.pool.release(networkId);
    return this.networks.delete(networkId);
  }

  /** Allocates an address (the requested one, or the next free). Returns it as a string. */
  allocateAddress(networkId: string, requested?: string): string {
    const addresses = this.get(networkId).addresses;
    const address = addresses.allocate(requested === undefined ? undefined : parseIpv4(requested, 'address'));
    return formatIpv4(address);
  }

  /** Frees an address; false if it was not allocated (releasing twice is harmless). */
  releaseAddress(networkId: string, address: string): boolean {
    return this.get(networkId).addresses.release(parseIpv4(address, 'address'));
  }

  isAllocated(networkId: string, address: string): boolean {
    return this.get(networkId).addresses.isAllocated(parseIpv4(address, 'address'));
  }

  network(networkId: string): NetworkAllocation | undefined {
    const network = this.networks.get(networkId);
    return network === undefined ? undefined : this.describe(networkId, network.addresses);
  }

  networkIds(): string[] {
    return [...this.networks.keys()];
  }

  serialize(): IpamState {
    const networks = [...this.networks.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, { name, addresses }]): NetworkIpamState => ({
        id,
        ...(name === undefined ? {} : { name }),
        subnet: formatCidr(addresses.subnet),
        gateway: formatIpv4(addresses.gateway),
        ...(addresses.ipRange === undefined ? {} : { ipRange: formatCidr(addresses.ipRange) }),
        addresses: addresses.addresses().map(formatIpv4),
        nextAddress: formatIpv4(addresses.nextAddress),
      }));
    return { networks, hostRoutes: this.pool.hostRoutes().map(formatCidr) };
  }

  private restoreNetwork(state: NetworkIpamState): void {
    this.checkNew(state.id);
    const label = state.name ?? state.id;
    const addresses = new NetworkAddresses(label, {
      subnet: parseCidr(state.subnet, `subnet of network ${label}`),
      gateway: parseIpv4(state.gateway, `gateway of network ${label}`),
      ipRange: state.ipRange === undefined ? undefined : parseCidr(state.ipRange, `ip-range of network ${label}`),
    });
    for (const address of state.addresses) addresses.allocate(parseIpv4(address, `address of network ${label}`));
    addresses.nextAddress =
      state.nextAddress === undefined ? addresses.cursorAfterHighest() : parseIpv4(state.nextAddress, `next address of network ${label}`);
    // A host may have gained a route into an existing network since it was made: keep the
    // network (tasks use it), and let only new subnets avoid the route.
    this.pool.claim(state.id, label, addresses.subnet, { ignoreRoutes: true });
    this.networks.set(state.id, { name: state.name, addresses });
  }

  private describe(id: string, addresses: NetworkAddresses): NetworkAllocation {
    return {
      id,
      subnet: formatCidr(addresses.subnet),
      gateway: formatIpv4(addresses.gateway),
      ...(addresses.ipRange === undefined ? {} : { ipRange: formatCidr(addresses.ipRange) }),
      capacity: addresses.capacity,
      allocated: addresses.allocatedCount,
    };
  }

  private get(networkId: string): Network {
    const network = this.networks.get(networkId);
    if (network === undefined) throw new TsswarmError('IPAM_UNKNOWN_NETWORK', { network: networkId });
    return network;
  }

  private checkNew(networkId: string): void {
    if (this.networks.has(networkId)) {
      throw new TsswarmError('INTERNAL', { detail: `network ${networkId} is already allocated` });
    }
  }
}
