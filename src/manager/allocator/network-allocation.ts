/**
 * What `network create` allocates (pure): the subnet (--subnet, else the first free block of
 * the pools), the gateway (--gateway, else the first address) and the VXLAN ID, given the
 * networks the store already holds. Built from those networks on every call, so the store is
 * the only state; the caller serializes creations (one at a time on the leader).
 */
import type { Network } from '../../objects/index.js';
import { networkSubnet } from './address-book.js';
import { Ipam } from './ipam/ipam.js';
import type { NetworkIpamState } from './ipam/ipam-state.js';
import type { SubnetPoolConfig } from './ipam/subnet-pool.js';
import { VniAllocator, type VniRange } from './vni-allocator.js';

/** The driver-state key Docker shows the VNI under (`network inspect` Options). */
export const VXLAN_ID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';

export interface NetworkAllocationRequest {
  readonly id: string;
  readonly name: string;
  readonly subnet?: string | undefined;
  readonly gateway?: string | undefined;
  readonly ipRange?: string | undefined;
  /** -o com.docker.network.driver.overlay.vxlanid_list=N: a VNI asked for. */
  readonly vni?: number | undefined;
}

export interface NetworkAllocationResult {
  readonly subnet: string;
  readonly gateway: string;
  /** "" when the whole subnet is the range. */
  readonly range: string;
  readonly vni: number;
}

export interface NetworkAllocationContext {
  readonly pools: SubnetPoolConfig;
  readonly vniRange: VniRange;
  /** Where the VNI search resumes (a hint kept by the caller), so a released VNI rests a while. */
  readonly vniCursor?: number | undefined;
}

/**
 * Allocates a new network's subnet, gateway and VNI next to `existing`. Throws IPAM_INVALID
 * (a bad or inconsistent --subnet/--gateway/--ip-range), IPAM_SUBNET_OVERLAP,
 * IPAM_POOL_EXHAUSTED, IPAM_VNI_IN_USE or IPAM_VNI_EXHAUSTED; changes nothing either way.
 */
export function allocateNetwork(existing: readonly Network[], request: NetworkAllocationRequest, ctx: NetworkAllocationContext): NetworkAllocationResult {
  const states: NetworkIpamState[] = [];
  const vnis: Array<{ network: string; vni: number }> = [];
  for (const n of existing) {
    const s = networkSubnet(n);
    if (s !== undefined) {
      states.push({ id: n.id, name: n.spec.annotations.name, subnet: s.subnet, gateway: s.gateway, ...(s.range === '' ? {} : { ipRange: s.range }), addresses: [] });
    }
    if (n.vni > 0) vnis.push({ network: n.id, vni: n.vni });
  }
  states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ipam = Ipam.restore(ctx.pools, { networks: states });
  const allocation = ipam.createNetwork({ id: request.id, name: request.name, subnet: request.subnet, gateway: request.gateway, ipRange: request.ipRange });
  const vniAllocator = VniAllocator.restore(ctx.vniRange, { assignments: vnis, ...(ctx.vniCursor === undefined ? {} : { next: ctx.vniCursor }) });
  const vni = vniAllocator.allocate(request.id, request.vni);
  return { subnet: allocation.subnet, gateway: allocation.gateway, range: allocation.ipRange ?? '', vni };
}
