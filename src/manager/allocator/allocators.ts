/**
 * The three allocators the leader runs, built fresh for a new cluster or rebuilt from the
 * replicated store on every new leader. Their state is plain JSON-able data, and
 * restoreAllocators(config, serializeAllocators(a)) behaves exactly as `a`.
 */
import { poolConfigOf, type AllocatorConfig } from './allocator-config.js';
import { Ipam } from './ipam/ipam.js';
import type { IpamState } from './ipam/ipam-state.js';
import { PublishedPortAllocator, type PortState } from './port-allocator.js';
import { VniAllocator, type VniState } from './vni-allocator.js';

export interface Allocators {
  readonly ipam: Ipam;
  readonly vnis: VniAllocator;
  readonly ports: PublishedPortAllocator;
}

export interface AllocatorsState {
  readonly ipam: IpamState;
  readonly vnis: VniState;
  readonly ports: PortState;
}

export function createAllocators(config: AllocatorConfig): Allocators {
  return {
    ipam: new Ipam(poolConfigOf(config)),
    vnis: new VniAllocator({ min: config.vxlanIdMin, max: config.vxlanIdMax }),
    ports: new PublishedPortAllocator({ start: config.dynamicPortStart, end: config.dynamicPortEnd }),
  };
}

export function serializeAllocators(allocators: Allocators): AllocatorsState {
  return { ipam: allocators.ipam.serialize(), vnis: allocators.vnis.serialize(), ports: allocators.ports.serialize() };
}

export function restoreAllocators(config: AllocatorConfig, state: AllocatorsState): Allocators {
  return {
    ipam: Ipam.restore(poolConfigOf(config), state.ipam),
    vnis: VniAllocator.restore({ min: config.vxlanIdMin, max: config.vxlanIdMax }, state.vnis),
    ports: PublishedPortAllocator.restore({ start: config.dynamicPortStart, end: config.dynamicPortEnd }, state.ports),
  };
}
