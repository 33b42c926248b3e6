// The allocator's public API: pure libraries for the leader's allocation loop.
export { allocatorConfigSchema, parseAllocatorConfig, poolConfigOf, type AllocatorConfig } from './allocator-config.js';
export { createAllocators, restoreAllocators, serializeAllocators, type Allocators, type AllocatorsState } from './allocators.js';
export { Ipam, type NetworkAllocation, type NetworkRequest } from './ipam/ipam.js';
export type { IpamState, NetworkIpamState } from './ipam/ipam-state.js';
export { cidrContains, cidrContainsCidr, cidrOverlaps, formatCidr, parseCidr, type Cidr } from './ipam/cidr.js';
export { formatIpv4, isIpv4, parseIpv4, type Ipv4 } from './ipam/ipv4.js';
export { parsePoolConfig, type SubnetPoolConfig } from './ipam/subnet-pool.js';
export { MAX_VNI, VniAllocator, type VniRange, type VniState } from './vni-allocator.js';
export {
  PORT_PROTOCOLS,
  PublishedPortAllocator,
  type PortProtocol,
  type PortRange,
  type PortRequest,
  type PortState,
  type PublishedPort,
} from './port-allocator.js';
export { AddressBook, addressOf, holdsAddresses, networkSubnet, nodeHolder, taskHolder, vipHolder, type AddressConflict } from './address-book.js';
export { DEFAULT_PORT_RANGE, needsAllocation, planAllocation, type AllocationInput, type AllocationPlan } from './allocation-plan.js';
export { planNodeAttachments } from './node-attachments.js';
export {
  checkPublishedPortsFree, planPublishedPorts, publishesIngress, type PortConflict, type PortCursors, type PortPlan,
} from './published-ports.js';
export {
  VXLAN_ID_OPTION, allocateNetwork, type NetworkAllocationContext, type NetworkAllocationRequest, type NetworkAllocationResult,
} from './network-allocation.js';
