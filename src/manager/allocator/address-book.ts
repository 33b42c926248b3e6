/**
 * The addresses in use on the cluster's overlay networks, rebuilt from the store's objects
 * alone: each allocated Network's subnet and gateway, every service's VIPs, every node's own
 * attachments (its load-balancer address on the ingress network), and the attachments of
 * every task that still holds its addresses (not yet in a terminal state).
 * Nothing else is kept anywhere, so a new leader (or the next pass) sees exactly what the
 * store says and can never hand out an address that a live task or VIP holds; an address is
 * released simply by its holder leaving the store or reaching a terminal state.
 *
 * Pure: no I/O, no clock. The only memory beyond the store is the per-network cursor hint
 * (where the rotating search resumes), which the caller may keep between passes so that a
 * just-released address is not handed straight to the next task; without it, the search
 * resumes after the highest address in use.
 */
import { isTsswarmError } from '../../errors/index.js';
import { taskStateValues, type Network, type Node, type Service, type Task } from '../../objects/index.js';
import { cidrContains, cidrLast, formatCidr, parseCidr, type Cidr } from './ipam/cidr.js';
import { Ipam } from './ipam/ipam.js';
import type { NetworkIpamState } from './ipam/ipam-state.js';
import { formatIpv4, parseIpv4 } from './ipam/ipv4.js';
import { parsePoolConfig } from './ipam/subnet-pool.js';

/** Whether a task still holds its network addresses: until it reaches a terminal state. */
export function holdsAddresses(t: Task): boolean {
  return taskStateValues[t.status.state] < taskStateValues.COMPLETE;
}

/** The allocated subnet of a network (its first IPAM config), if it has one. */
export function networkSubnet(network: Network): { subnet: string; gateway: string; range: string } | undefined {
  const config = network.ipam?.configs[0];
  if (config === undefined || config.subnet === '') return undefined;
  return { subnet: config.subnet, gateway: config.gateway, range: config.range };
}

/** "10.0.1.5/24" -> "10.0.1.5" (an address without a prefix is taken as it is). */
export function addressOf(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr : cidr.slice(0, slash);
}

/** Who holds an address, as the book records it (and as heldBy compares it). */
export const vipHolder = (s: Service): string => `VIP of service ${s.spec.annotations.name}`;
export const taskHolder = (t: Task): string => `task ${t.id}`;
export const nodeHolder = (n: Node): string => `load balancer of node ${n.id}`;

export interface AddressBookInput {
  readonly networks: readonly Network[];
  readonly services: readonly Service[];
  readonly tasks: readonly Task[];
  /** Nodes (their attachments hold addresses); absent: none. */
  readonly nodes?: readonly Node[];
  /** Network ID -> address where the rotating search resumes (hints from earlier passes). */
  readonly cursors?: ReadonlyMap<string, string>;
}

/** A held address the store shows that the book could not take (a broken invariant, logged). */
export interface AddressConflict {
  readonly networkId: string;
  readonly address: string;
  readonly holder: string;
}

interface Parsed {
  readonly subnet: Cidr;
  readonly gateway: number;
}

/** Pool settings the book never uses (it only restores existing subnets); any valid value does. */
const UNUSED_POOL = parsePoolConfig(['10.0.0.0/8'], 24);

export class AddressBook {
  private constructor(
    private readonly ipam: Ipam,
    private readonly networks: ReadonlyMap<string, Network>,
    private readonly parsed: ReadonlyMap<string, Parsed>,
    /** Addresses the book saw held, by network, with their holders. */
    private readonly holders: Map<string, Map<string, string>>,
    readonly conflicts: readonly AddressConflict[],
  ) {}

  /** Rebuilds the book from the store's objects. Throws only if two networks' subnets overlap. */
  static build(input: AddressBookInput): AddressBook {
    const networks = new Map<string, Network>();
    const parsed = new Map<string, Parsed>();
    for (const n of input.networks) {
      const s = networkSubnet(n);
      if (s === undefined) continue;
      networks.set(n.id, n);
      parsed.set(n.id, { subnet: parseCidr(s.subnet, `subnet of network ${n.spec.annotations.name}`), gateway: parseIpv4(s.gateway, `gateway of network ${n.spec.annotations.name}`) });
    }
    const holders = new Map<string, Map<string, string>>();
    const conflicts: AddressConflict[] = [];
    const hold = (networkId: string, cidr: string, holder: string): void => {
      const p = parsed.get(networkId);
      if (p === undefined) return;
      const address = addressOf(cidr);
      let value: number;
      try {
        value = parseIpv4(address);
      } catch {
        conflicts.push({ networkId, address: cidr, holder });
        return;
      }
      const usable = cidrContains(p.subnet, value) && value !== p.subnet.base && value !== cidrLast(p.subnet) && value !== p.gateway;
      let held = holders.get(networkId);
      if (held === undefined) holders.set(networkId, (held = new Map()));
      if (!usable || held.has(address)) {
        conflicts.push({ networkId, address: cidr, holder });
        return;
      }
      held.set(address, holder);
    };
    for (const s of input.services) for (const vip of s.endpoint?.virtualIps ?? []) hold(vip.networkId, vip.addr, vipHolder(s));
    for (const n of input.nodes ?? []) for (const a of n.attachments ?? []) for (const addr of a.addresses) hold(a.networkId, addr, nodeHolder(n));
    for (const t of input.tasks) {
      if (!holdsAddresses(t)) continue;
      for (const a of t.networks) for (const addr of a.addresses) hold(a.networkId, addr, taskHolder(t));
    }
    const states: NetworkIpamState[] = [...networks.values()].map((n) => {
      const s = networkSubnet(n)!;
      const addresses = [...(holders.get(n.id)?.keys() ?? [])].sort((a, b) => parseIpv4(a) - parseIpv4(b));
      const cursor = input.cursors?.get(n.id);
      return {
        id: n.id,
        name: n.spec.annotations.name,
        subnet: s.subnet,
        gateway: s.gateway,
        ...(s.range === '' ? {} : { ipRange: s.range }),
        addresses,
        ...(cursor === undefined ? {} : { nextAddress: cursor }),
      };
    });
    states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return new AddressBook(Ipam.restore(UNUSED_POOL, { networks: states }), networks, parsed, holders, conflicts);
  }

  /** The network as stored, if it exists and has a subnet. */
  network(networkId: string): Network | undefined {
    return this.networks.get(networkId);
  }

  /** Whether `cidr` (with or without prefix) is held on the network by `holder`. */
  heldBy(networkId: string, cidr: string, holder: string): boolean {
    return this.holders.get(networkId)?.get(addressOf(cidr)) === holder;
  }

  /**
   * The next free address of the network as a CIDR with the subnet's prefix ("10.0.1.5/24").
   * Throws IPAM_UNKNOWN_NETWORK or IPAM_ADDRESSES_EXHAUSTED.
   */
  allocate(networkId: string, holder: string): string {
    const address = this.ipam.allocateAddress(networkId);
    let held = this.holders.get(networkId);
    if (held === undefined) this.holders.set(networkId, (held = new Map()));
    held.set(address, holder);
    return `${address}/${this.parsed.get(networkId)!.subnet.prefix}`;
  }

  /** Gives back an address this book handed out (an allocation undone within a pass). */
  release(networkId: string, cidr: string): void {
    const address = addressOf(cidr);
    try {
      this.ipam.releaseAddress(networkId, address);
    } catch (err) {
      if (!isTsswarmError(err)) throw err;
    }
    this.holders.get(networkId)?.delete(address);
  }

  /** Where each network's rotating search resumes now (hints for the next build). */
  cursors(): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of this.ipam.serialize().networks) if (n.nextAddress !== undefined) out.set(n.id, n.nextAddress);
    return out;
  }

  /** The subnet of a network as a CIDR string, for messages. */
  subnetOf(networkId: string): string | undefined {
    const p = this.parsed.get(networkId);
    return p === undefined ? undefined : formatCidr(p.subnet);
  }

  /** The formatted gateway of a network. */
  gatewayOf(networkId: string): string | undefined {
    const p = this.parsed.get(networkId);
    return p === undefined ? undefined : formatIpv4(p.gateway);
  }
}
