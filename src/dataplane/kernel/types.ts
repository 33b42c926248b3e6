/**
 * The narrow boundary between the dataplane's decisions and the Linux kernel.
 *
 * The planner turns a desired state plus an observed KernelState into KernelOps; a Kernel
 * (the real one in ./linux-kernel.ts, or the recording fake in ./fake-kernel.ts) observes and
 * applies them. Everything here is plain data so that plans can be printed and compared.
 */

/**
 * A network namespace as the dataplane names it: 'host' is the node's own host namespace
 * (where the daemon runs, or a test bed host); anything else is the name of an nsfs file
 * under the node's netns directory.
 */
export type NsName = string;
export const HOST_NS: NsName = 'host';

export interface VxlanInfo {
  readonly vni: number;
  readonly port: number;
  readonly local: string;
  readonly learning: boolean;
  readonly proxy: boolean;
}

export interface LinkState {
  readonly name: string;
  readonly kind: 'bridge' | 'vxlan' | 'veth' | 'other';
  readonly mtu: number;
  readonly up: boolean;
  readonly mac: string;
  readonly master?: string;
  readonly vxlan?: VxlanInfo;
  /** Bridge-port isolation (ports with it on cannot reach each other). */
  readonly isolated?: boolean;
  /** The link's alias (ifalias); marks objects the dataplane created in shared places. */
  readonly alias?: string;
}

/** What one namespace holds, reduced to the facts the planner compares. */
export interface NsState {
  readonly links: Map<string, LinkState>;
  /** "DEV CIDR", e.g. "br0 10.0.1.1/24". */
  readonly addrs: Set<string>;
  /** Main-table routes as "DST via GW dev DEV" or "DST dev DEV" (DST may be "default"). */
  readonly routes: Set<string>;
  /** Permanent neighbours, "DEV IP MAC". */
  readonly neigh: Set<string>;
  /** Permanent FDB entries with a remote destination, "DEV MAC DST". */
  readonly fdb: Set<string>;
  /**
   * Per-namespace sysctls the dataplane manages there (overlay namespaces), by key, as read
   * back with a full read; SYSCTL_ABSENT when the file does not exist (its module is not
   * loaded, so there is nothing to turn off). Undefined when not read.
   */
  readonly sysctls?: Map<string, string>;
  /**
   * nft tables in this namespace ("FAMILY NAME") with the rule keys (comments) they hold;
   * undefined when not read (the host's with every full read, another namespace's when the
   * observe scope asks for it).
   */
  readonly nft?: Map<string, Set<string>>;
}

/** The value observe() reports for a namespace sysctl whose /proc/sys file does not exist. */
export const SYSCTL_ABSENT = 'absent';

export interface KernelState {
  /** The nsfs files that exist (mounted) under the node's netns dir, by name, with inode. */
  readonly namespaces: Map<NsName, number>;
  /** Observed contents by namespace (those read; see `read`). */
  readonly ns: Map<NsName, NsState>;
  /** How deep each namespace in `ns` was read ('entries': only neigh and fdb are filled in). */
  readonly read: Map<NsName, ReadDepth>;
  /** Host-namespace sysctls that the dataplane manages, by key. */
  readonly sysctls: Map<string, string>;
}

export function emptyNsState(): NsState {
  return { links: new Map(), addrs: new Set(), routes: new Set(), neigh: new Set(), fdb: new Set() };
}

interface OpBase {
  /** The desired-state item this op serves ("network:ID", "sandbox:ID", "remote:NET/IP", "gwbridge"). */
  readonly item: string;
}

/**
 * One kernel change. Ops are ordered by the planner; see ./stages.ts for how the real kernel
 * batches runs of them.
 */
export type KernelOp = OpBase &
  (
    | {
        readonly op: 'netns-add';
        readonly ns: NsName;
        /** An existing namespace's nsfs path to bind-mount (adopt) instead of making a new one. */
        readonly from?: string;
      }
    | { readonly op: 'netns-del'; readonly ns: NsName }
    | {
        readonly op: 'bridge-add';
        readonly ns: NsName;
        readonly name: string;
        readonly mtu: number;
        readonly alias?: string;
      }
    | {
        readonly op: 'vxlan-add';
        /** The namespace the device ends up in; it is created in the host namespace first. */
        readonly ns: NsName;
        readonly name: string;
        readonly vni: number;
        readonly port: number;
        readonly local: string;
        readonly mtu: number;
      }
    | {
        readonly op: 'veth-add';
        readonly ns: NsName;
        readonly name: string;
        readonly mtu: number;
        readonly peerNs: NsName;
        readonly peerName: string;
        readonly peerMac?: string;
      }
    | {
        readonly op: 'link-set';
        readonly ns: NsName;
        readonly name: string;
        readonly master?: string;
        readonly mtu?: number;
        readonly up?: boolean;
        readonly isolated?: boolean;
      }
    | {
        readonly op: 'link-del';
        readonly ns: NsName;
        readonly name: string;
        /** A wrong link that blocks its replacement's name: deleted before the adds. */
        readonly early?: boolean;
      }
    | { readonly op: 'addr-add' | 'addr-del'; readonly ns: NsName; readonly dev: string; readonly cidr: string }
    | {
        readonly op: 'route-add' | 'route-del';
        readonly ns: NsName;
        readonly dst: string;
        readonly via?: string;
        readonly dev: string;
      }
    | {
        readonly op: 'neigh-add' | 'neigh-del';
        readonly ns: NsName;
        readonly dev: string;
        readonly ip: string;
        readonly mac: string;
      }
    | {
        readonly op: 'fdb-add' | 'fdb-del';
        readonly ns: NsName;
        readonly dev: string;
        readonly mac: string;
        readonly dst: string;
      }
    | {
        /** Replace a whole nft table atomically (one `nft -f` transaction). */
        readonly op: 'nft-table';
        readonly ns: NsName;
        readonly family: string;
        readonly table: string;
        /** The table body, one rule per line, each carrying comment "KEY". */
        readonly chains: readonly NftChain[];
      }
    | { readonly op: 'nft-table-del'; readonly ns: NsName; readonly family: string; readonly table: string }
    | {
        readonly op: 'sysctl';
        readonly ns: NsName;
        readonly key: string;
        readonly value: string;
        /** Written only when the file exists (a sysctl of a module that may not be loaded). */
        readonly ifPresent?: boolean;
      }
  );

export interface NftChain {
  readonly name: string;
  /** e.g. "type nat hook postrouting priority srcnat; policy accept;" */
  readonly hook: string;
  /** Rules; each has a unique key that is written as its comment and read back to compare. */
  readonly rules: readonly { readonly key: string; readonly rule: string }[];
}

export type OpKind = KernelOp['op'];

export interface OpResult {
  readonly op: KernelOp;
  /** undefined when the op succeeded. */
  readonly error?: string;
}

/**
 * How much of a namespace observe() reads: everything, only its neighbour and FDB entries
 * (what remote endpoints change), or nothing beyond the existence of its nsfs file.
 */
export type ReadDepth = 'full' | 'entries' | 'none';

/**
 * What observe() should read. Every namespace is checked for existence (its nsfs file); each
 * (the host too, with inode 0) is read as deep as depth(name, inode) says.
 */
export interface ObserveScope {
  readonly depth: (ns: NsName, inode: number) => ReadDepth;
  /**
   * What a full read of a namespace other than the host reads beyond its links, addresses,
   * routes and entries: its nft tables, and sysctls (absent files reported as SYSCTL_ABSENT).
   * Default nothing more.
   */
  readonly extras?: (ns: NsName, inode: number) => ReadExtras;
}

export interface ReadExtras {
  readonly nft?: boolean;
  readonly sysctls?: readonly string[];
}

export const DEEP_ALL: ObserveScope = { depth: () => 'full' };

/** A kernel: the real Linux adapter or the recording fake. */
export interface Kernel {
  /** The namespaces (nsfs files) that exist, with their inode numbers; no process spawned. */
  listNamespaces(): Promise<Map<NsName, number>>;
  observe(scope: ObserveScope): Promise<KernelState>;
  /** Applies ops in order; never throws for a failed op, reports it in the result instead. */
  apply(ops: readonly KernelOp[]): Promise<OpResult[]>;
}
