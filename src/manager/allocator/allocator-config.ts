/**
 * The allocator's settings. The address pool ones are fixed at `swarm init`
 * (--default-addr-pool, --default-addr-pool-mask-length) and kept in the cluster object; the
 * others are here so that tests and odd sites can narrow them.
 */
import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import { parsePoolConfig, type SubnetPoolConfig } from './ipam/subnet-pool.js';
import { MAX_VNI } from './vni-allocator.js';

export const allocatorConfigSchema = z
  .object({
    // CIDR blocks that networks without --subnet get their subnets from, in order. Default
    // 10.0.0.0/8, as Docker Swarm: 65,536 networks of /24, and users' LANs are more often in
    // 192.168/16 or 172.16/12. Subnets that overlap a host's route are skipped anyway.
    defaultAddrPool: z.array(z.string()).min(1).default(['10.0.0.0/8']),
    // Bits of prefix of each subnet carved from the pools. Default 24 (Docker's): 256
    // addresses, 253 for tasks and VIPs after the network, broadcast and gateway addresses.
    // Longer than 30 leaves no room for a gateway and a task.
    defaultAddrPoolMaskLength: z.number().int().min(0).max(30).default(24),
    // Lowest VXLAN ID (VNI) given to an overlay network. Default 4096, as Docker Swarm, so
    // ingress gets 4096 and lower IDs stay free for VXLANs made by hand on the hosts.
    vxlanIdMin: z.number().int().min(1).max(MAX_VNI).default(4096),
    // Highest VXLAN ID. Default 2^24-1, the largest that the VXLAN header's 24-bit field holds.
    vxlanIdMax: z.number().int().min(1).max(MAX_VNI).default(MAX_VNI),
    // First and last port (inclusive) of the range that ingress ports published without a
    // number come from. Default 30000-32767, as Docker Swarm (and Kubernetes NodePorts): above
    // the usual service ports and below Linux's ephemeral range (32768-60999), so a published
    // port never collides with the source port of a node's own outgoing connection.
    dynamicPortStart: z.number().int().min(1).max(65535).default(30000),
    dynamicPortEnd: z.number().int().min(1).max(65535).default(32767),
  })
  .refine((c) => c.vxlanIdMin <= c.vxlanIdMax, { message: 'vxlanIdMin must not exceed vxlanIdMax', path: ['vxlanIdMin'] })
  .refine((c) => c.dynamicPortStart <= c.dynamicPortEnd, { message: 'dynamicPortStart must not exceed dynamicPortEnd', path: ['dynamicPortStart'] });

export type AllocatorConfig = z.output<typeof allocatorConfigSchema>;

/** Validates and fills defaults; throws CONFIG_INVALID naming every bad field. */
export function parseAllocatorConfig(input: unknown): AllocatorConfig {
  return parseConfig('allocator', allocatorConfigSchema, input);
}

/** The pool part of the config, with the CIDRs parsed (IPAM_INVALID on a bad pool). */
export function poolConfigOf(config: AllocatorConfig): SubnetPoolConfig {
  return parsePoolConfig(config.defaultAddrPool, config.defaultAddrPoolMaskLength);
}

