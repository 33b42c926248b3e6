import type { KernelOp, NftChain, NsName, VxlanInfo } from '../kernel/types.js';

/**
 * The kernel objects a desired state calls for, namespace by namespace: what compile-target.ts
 * produces and diff.ts compares with the observed kernel.
 */

export interface TargetLink {
  readonly name: string;
  readonly item: string;
  readonly kind: 'bridge' | 'vxlan' | 'veth' | 'lo';
  /** The op that creates it; absent for loopback, for a veth's second end, and for a link used as it is. */
  readonly create?: KernelOp;
  /** For a veth end: where its peer must be. */
  readonly peer?: { readonly ns: NsName; readonly name: string };
  readonly mtu?: number;
  readonly up?: boolean;
  readonly master?: string;
  readonly isolated?: boolean;
  readonly mac?: string;
  readonly vxlan?: VxlanInfo;
}

export interface TargetRoute {
  readonly item: string;
  readonly dst: string;
  readonly via?: string;
  readonly dev: string;
}

export interface TargetNs {
  readonly item: string;
  /** For an adopted sandbox namespace: the nsfs path it is bind-mounted from when missing. */
  readonly netnsFrom?: string;
  readonly links: Map<string, TargetLink>;
  /** key "DEV CIDR" -> item */
  readonly addrs: Map<string, string>;
  /** key as formatRoute() -> route */
  readonly routes: Map<string, TargetRoute>;
  /** key "DEV IP MAC" -> item */
  readonly neigh: Map<string, string>;
  /** key "DEV MAC DST" -> item */
  readonly fdb: Map<string, string>;
  /** Namespace sysctls, key -> value; written only where the file exists (see SYSCTL_ABSENT). */
  readonly sysctls: Map<string, { readonly item: string; readonly value: string }>;
  /** nft tables in this namespace, "FAMILY NAME" -> the table (each replaced as a whole). */
  readonly nft: Map<string, TargetNftTable>;
}

export interface TargetNftTable {
  readonly item: string;
  readonly family: string;
  readonly table: string;
  readonly chains: readonly NftChain[];
}

export interface TargetState {
  readonly ns: Map<NsName, TargetNs>;
  /** Host-namespace sysctls. */
  readonly sysctls: Map<string, { readonly item: string; readonly value: string }>;
}

export function emptyTargetNs(item: string): TargetNs {
  return { item, links: new Map(), addrs: new Map(), routes: new Map(), neigh: new Map(), fdb: new Map(), sysctls: new Map(), nft: new Map() };
}

/** The rule keys of a table, as observe() reports them (the comments of its rules). */
export function nftKeys(t: TargetNftTable): Set<string> {
  return new Set(t.chains.flatMap((c) => c.rules.map((r) => r.key)));
}

/** A problem with the desired state itself (not the kernel), reported against its item. */
export interface Problem {
  readonly item: string;
  readonly error: string;
}
