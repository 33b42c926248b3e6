/**
 * The IPAM's state as plain JSON-able values: what the Raft-replicated store keeps, and what a
 * new leader rebuilds its allocator from (Ipam.restore). Addresses and subnets are strings in
 * the users' notation so that the store and `network inspect` read the same.
 */

export interface NetworkIpamState {
  readonly id: string;
  /** The network's name, for messages only. */
  readonly name?: string | undefined;
  readonly subnet: string;
  readonly gateway: string;
  readonly ipRange?: string | undefined;
  /** Allocated addresses (tasks, VIPs, load-balancer endpoints), ascending; gateway excluded. */
  readonly addresses: readonly string[];
  /**
   * Where the rotating search resumes. Optional: without it, a restore resumes just after the
   * highest allocated address, which keeps recently released addresses unused in the common case.
   */
  readonly nextAddress?: string | undefined;
}

export interface IpamState {
  /** One entry per network, sorted by ID so that equal states serialize identically. */
  readonly networks: readonly NetworkIpamState[];
  /** The hosts' routes that new subnets avoid. */
  readonly hostRoutes?: readonly string[] | undefined;
}
