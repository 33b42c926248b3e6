/**
 * Which subnet each network has, and where a network without --subnet gets one: the default
 * address pools (`--default-addr-pool`, 10.0.0.0/8 unless set at init) carved into blocks of
 * `--default-addr-pool-mask-length` bits (/24 unless set).
 *
 * No two networks may overlap, and no network may overlap a route of the hosts (their LANs, VPNs,
 * docker_gwbridge...): such a network would capture the hosts' own traffic (moby/moby#50011).
 * Explicit subnets that overlap are refused; pool subnets are chosen around them.
 */
import { TsswarmError } from '../../../errors/index.js';
import { invalid, quote } from '../invalid.js';
import { cidrLast, cidrOverlaps, formatCidr, parseCidr, type Cidr } from './cidr.js';

/** The longest prefix a network may have: a /30 holds a gateway and one task. */
export const MAX_NETWORK_PREFIX = 30;

export interface SubnetPoolConfig {
  /** Disjoint blocks to carve network subnets from, searched in order. */
  readonly pools: readonly Cidr[];
  /** Prefix length of each carved subnet. */
  readonly maskLength: number;
}

/**
 * Parses and checks `--default-addr-pool` (one or more CIDRs) and
 * `--default-addr-pool-mask-length`, throwing IPAM_INVALID naming the bad flag.
 */
export function parsePoolConfig(pools: readonly string[], maskLength: number): SubnetPoolConfig {
  if (pools.length === 0) {
    throw invalid('--default-addr-pool (none given)', 'networks without --subnet need a pool to take subnets from', 'give at least one pool, e.g. 10.0.0.0/8');
  }
  const parsed = pools.map((text) => parseCidr(text, '--default-addr-pool'));
  if (!Number.isInteger(maskLength) || maskLength > MAX_NETWORK_PREFIX) {
    throw invalid(
      `--default-addr-pool-mask-length ${maskLength}`,
      `a subnet longer than /${MAX_NETWORK_PREFIX} has no room for a gateway and a task`,
      `use a length up to ${MAX_NETWORK_PREFIX}; 24 gives 254 addresses per network`,
    );
  }
  for (const [i, pool] of parsed.entries()) {
    if (maskLength < pool.prefix) {
      throw invalid(
        `--default-addr-pool-mask-length ${maskLength}`,
        `it is shorter than the /${pool.prefix} of pool ${formatCidr(pool)}, so no subnet fits in the pool`,
        `use a length of at least ${pool.prefix}, or a larger pool`,
      );
    }
    for (const other of parsed.slice(0, i)) {
      if (cidrOverlaps(pool, other)) {
        throw invalid(
          `--default-addr-pool ${quote(formatCidr(other))} and ${quote(formatCidr(pool))}`,
          'the pools overlap, so one subnet could be handed out twice',
          'give pools that do not overlap',
        );
      }
    }
  }
  return { pools: parsed, maskLength };
}

interface Holder {
  readonly subnet: Cidr;
  /** How errors name the network: its name, else its ID. */
  readonly label: string;
}

export class SubnetPool {
  private readonly networks = new Map<string, Holder>();
  private routes: readonly Cidr[] = [];

  constructor(readonly config: SubnetPoolConfig) {}

  /**
   * Replaces the hosts' routes that subnets must avoid. Default routes (/0) are ignored: every
   * subnet overlaps them, and traffic to a network's own subnet never takes the default route.
   */
  setHostRoutes(routes: readonly Cidr[]): void {
    this.routes = routes.filter((route) => route.prefix > 0);
  }

  hostRoutes(): readonly Cidr[] {
    return this.routes;
  }

  subnetOf(networkId: string): Cidr | undefined {
    return this.networks.get(networkId)?.subnet;
  }

  /** What `subnet` would overlap, as a phrase for an error; undefined when it is free. */
  conflict(subnet: Cidr, options: { ignoreRoutes?: boolean } = {}): string | undefined {
    for (const holder of this.networks.values()) {
      if (cidrOverlaps(subnet, holder.subnet)) return `network ${holder.label} (${formatCidr(holder.subnet)})`;
    }
    if (options.ignoreRoutes !== true) {
      for (const route of this.routes) {
        if (cidrOverlaps(subnet, route)) return `the hosts' route to ${formatCidr(route)}`;
      }
    }
    return undefined;
  }

  /**
   * Gives `networkId` an explicit subnet (--subnet), or throws IPAM_SUBNET_OVERLAP. Restoring
   * from the store passes ignoreRoutes: a network that exists keeps its subnet even if a host
   * has since gained a route into it (that is reported, not undone).
   */
  claim(networkId: string, label: string, subnet: Cidr, options: { ignoreRoutes?: boolean } = {}): void {
    this.checkNew(networkId);
    const other = this.conflict(subnet, options);
    if (other !== undefined) throw new TsswarmError('IPAM_SUBNET_OVERLAP', { subnet: formatCidr(subnet), other });
    this.networks.set(networkId, { subnet, label });
  }

  /**
   * The networks that overlap a host route: made before the route appeared (or restored), so
   * they were not refused. The control API reports them rather than letting them misroute
   * silently (moby/moby#50011).
   */
  routeConflicts(): { network: string; subnet: Cidr; route: Cidr }[] {
    const conflicts: { network: string; subnet: Cidr; route: Cidr }[] = [];
    for (const [network, holder] of this.networks) {
      for (const route of this.routes) {
        if (cidrOverlaps(holder.subnet, route)) conflicts.push({ network, subnet: holder.subnet, route });
      }
    }
    return conflicts;
  }

  /** Gives `networkId` the first free pool subnet, or throws IPAM_POOL_EXHAUSTED. */
  allocate(networkId: string, label: string): Cidr {
    this.checkNew(networkId);
    const subnet = this.findFree();
    if (subnet === undefined) {
      throw new TsswarmError('IPAM_POOL_EXHAUSTED', {
        maskLength: this.config.maskLength,
        pools: this.config.pools.map(formatCidr).join(', '),
      });
    }
    this.networks.set(networkId, { subnet, label });
    return subnet;
  }

  /** Returns the network's subnet to the pool; false if it had none. */
  release(networkId: string): boolean {
    return this.networks.delete(networkId);
  }

  /**
   * The first subnet of the pools, in order, that overlaps no network and no route. Rather than
   * testing every /24 of a /8 (65k candidates), it jumps past each block in the way, so the
   * cost grows with the number of networks and routes, not with the size of the pools.
   */
  findFree(): Cidr | undefined {
    const taken = [...[...this.networks.values()].map((holder) => holder.subnet), ...this.routes];
    const size = 2 ** (32 - this.config.maskLength);
    for (const pool of this.config.pools) {
      const poolLast = cidrLast(pool);
      let base = pool.base;
      while (base + size - 1 <= poolLast) {
        const candidate: Cidr = { base, prefix: this.config.maskLength };
        let blockedUntil = -1;
        for (const block of taken) {
          if (cidrOverlaps(candidate, block)) blockedUntil = Math.max(blockedUntil, cidrLast(block));
        }
        if (blockedUntil < 0) return candidate;
        base = Math.ceil((blockedUntil + 1) / size) * size;
      }
    }
    return undefined;
  }

  private checkNew(networkId: string): void {
    if (this.networks.has(networkId)) {
      throw new TsswarmError('INTERNAL', { detail: `network ${networkId} already has a subnet` });
    }
  }
}
