import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { systemClock, type Clock } from '../util/clock.js';
import { formatOp } from './kernel/format-op.js';
import {
  HOST_NS,
  type Kernel,
  type KernelOp,
  type KernelState,
  type NsName,
  type NsState,
  type OpResult,
  type ReadDepth,
  type ReadExtras,
} from './kernel/types.js';
import type { DataplaneConfig, DesiredState } from './model.js';
import { overlayNs, sandboxNs } from './naming.js';
import { compileTarget, recompileRemotes, type Compiled } from './plan/compile-target.js';
import { plan } from './plan/planner.js';
import { lbItem } from './plan/load-balancer.js';
import { nftKeys, type TargetNftTable, type TargetNs, type TargetState } from './plan/target.js';
import { SignatureTracker, type Signatures } from './signatures.js';

/** Read back in the ingress sandbox, which forwards. */
const INGRESS_NS_SYSCTLS: readonly string[] = ['net.ipv4.ip_forward'];

export interface ReconcileError {
  readonly item: string;
  /** The failed op as text; absent for problems with the desired state itself. */
  readonly op?: string;
  readonly error: string;
}

export interface ReconcileReport {
  /** Number of kernel ops attempted (0 when the kernel already matched). */
  readonly opCount: number;
  readonly errors: ReconcileError[];
  /** What the kernel now has, by desired item. */
  readonly reached: {
    readonly networks: string[];
    readonly sandboxes: string[];
    readonly remotes: number;
    readonly gwbridge: boolean;
    /** Load balancers in place, as "SANDBOX/SERVICE" (published ports included, for the ingress sandbox). */
    readonly loadBalancers: string[];
  };
  readonly durationMs: number;
  /** Where the time went: reading the kernel back, planning, applying, recording. */
  readonly phasesMs: { readonly observe: number; readonly plan: number; readonly apply: number; readonly record: number };
}

export interface ReconcileOptions {
  /** Read every namespace back in full instead of trusting verified ones (see README). */
  readonly fullReadback?: boolean;
}

interface Verified {
  readonly inode: number;
  readonly signature: string;
  readonly entries: string | undefined;
  readonly state: NsState;
}

interface VerifiedHost {
  readonly signature: string;
  /** With its nft tables. */
  readonly state: NsState;
  readonly sysctls: Map<string, string>;
}

/**
 * Makes one node's kernel match a desired state: observe, plan, apply (adds before deletes),
 * collect errors, report what was reached. Safe to call repeatedly with the same state.
 *
 * Read-back policy: a namespace is read in full unless it was verified: programmed without
 * error for the same desired fingerprint, and (for sandbox and overlay namespaces) its nsfs
 * file still has the same inode. When only an overlay's remote endpoints changed, only its
 * neighbour and FDB entries are read (over netlink: the changes since the last read, see
 * kernel/README.md), and only those entries are compared with the target (the rest of such
 * a namespace is the verified state). Only namespaces that were read (or must be created) are
 * planned. The existence and inode of every namespace file are checked on every call. A
 * restarted daemon has verified nothing, so its first call reads everything, and
 * `fullReadback` forces that at any time. This keeps a one-peer change to a node with
 * hundreds of sandboxes from reading hundreds of namespaces.
 *
 * nft tables: the host's are read with every full read of the host (the whole ruleset). A
 * sandbox's (its load balancers' table) are read, with a full read of it, only where its
 * target has one, or where this reconciler does not know it has none: a namespace it has not
 * verified (first call, new inode, a failed op) or one it left with a table (which may be stale
 * now). So sandboxes without load balancers cost no `nft` process once verified, and one whose
 * backends change costs one full read of that sandbox and one `nft -f` of its table. The
 * ingress sandbox's ip_forward is read back with its full reads. The host's ingress DNAT
 * points at the ingress sandbox's gwbridge address, chosen while compiling: when it differs
 * from what the verified host holds, the host is planned against that verified state even
 * though the host's own fingerprint did not change.
 *
 * Not reentrant: callers serialize calls (the daemon runs one reconcile at a time).
 */
export class Reconciler {
  private readonly verified = new Map<NsName, Verified>();
  private readonly signatures = new SignatureTracker();
  private host: VerifiedHost | undefined;
  private last: { readonly key: string; readonly entries: ReadonlyMap<NsName, string>; readonly compiled: Compiled } | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly kernel: Kernel,
    private readonly cfg: DataplaneConfig,
    opts: { logger?: Logger; clock?: Clock } = {},
  ) {
    this.log = opts.logger ?? silentLogger();
    this.clock = opts.clock ?? systemClock;
  }

  async reconcile(desired: DesiredState, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
    const t0 = this.clock.now();
    const sigs = this.signatures.compute(desired);
    if (opts.fullReadback === true) {
      this.verified.clear();
      this.host = undefined;
      this.last = undefined;
    }
    const depth = (ns: NsName, inode: number): ReadDepth => {
      if (ns === HOST_NS) return this.host?.signature === sigs.host ? 'none' : 'full';
      const v = this.verified.get(ns);
      if (v === undefined || v.inode !== inode || v.signature !== sigs.structure.get(ns)) return 'full';
      return v.entries === sigs.entries.get(ns) ? 'none' : 'entries';
    };
    const extras = (ns: NsName, inode: number): ReadExtras => {
      if (!ns.startsWith('sb-')) return {};
      // A sandbox's nft tables are read where its target has one, and where it is not known
      // to have none: a namespace this reconciler has not verified (restart, new inode) or
      // that it left with a table (which may be stale now).
      const v = this.verified.get(ns);
      const knownClean = v !== undefined && v.inode === inode && (v.state.nft?.size ?? 0) === 0;
      return {
        ...(sigs.nftNs.has(ns) || !knownClean ? { nft: true } : {}),
        ...(sigs.ingressNs.has(ns) ? { sysctls: INGRESS_NS_SYSCTLS } : {}),
      };
    };
    const observed = await this.kernel.observe({ depth, extras });
    const t1 = this.clock.now();
    this.fillFromCache(observed);
    let hostStale = false;
    const dirty = (ns: NsName) => observed.read.has(ns) || (ns !== HOST_NS && !observed.namespaces.has(ns)) || (ns === HOST_NS && hostStale);
    // When only remote endpoints changed and the host was not read, the last compilation
    // holds except for the overlays' entries: skip compiling hundreds of sandboxes again.
    const key = sigs.structureKey;
    const reuse = this.last !== undefined && this.last.key === key && !observed.read.has(HOST_NS);
    const prevEntries = this.last?.entries;
    const changedNets = new Set(desired.networks.filter((n) => sigs.entries.get(overlayNs(n.id)) !== prevEntries?.get(overlayNs(n.id))).map((n) => n.id));
    const compiled =
      reuse && this.last !== undefined ? recompileRemotes(this.last.compiled, desired, this.cfg, changedNets) : compileTarget(desired, this.cfg, observed);
    this.last = { key, entries: sigs.entries, compiled };
    // The host's ingress DNAT points at the ingress sandbox's gwbridge address, chosen while
    // compiling: when it moved (that sandbox's namespace was made again), the host is planned
    // against its verified state even though its own fingerprint did not change.
    hostStale = !observed.read.has(HOST_NS) && !sameTables(this.host?.state.nft, compiled.target.ns.get(HOST_NS)?.nft, this.hostTables());
    const p = plan(desired, this.cfg, observed, dirty, compiled);
    const t2 = this.clock.now();
    const results = p.ops.length > 0 ? await this.kernel.apply(p.ops) : [];
    const t3 = this.clock.now();
    const errors: ReconcileError[] = p.problems.map((x) => ({ item: x.item, error: x.error }));
    const failedNs = new Set<NsName>();
    const failedItems = new Set<string>(p.problems.map((x) => x.item));
    for (const r of results) {
      if (r.error === undefined) continue;
      errors.push({ item: r.op.item, op: formatOp(r.op), error: r.error });
      failedItems.add(r.op.item);
      for (const ns of touched(r.op)) failedNs.add(ns);
    }
    // Inodes change only when namespaces were made or removed.
    const nsChanged = p.ops.some((o) => o.op === 'netns-add' || o.op === 'netns-del');
    await this.remember(p.target, observed, results, sigs, failedNs, dirty, nsChanged);
    const t4 = this.clock.now();
    for (const e of errors) this.log.warn({ item: e.item, op: e.op, err: e.error }, 'dataplane op failed');

    const networks = desired.networks.map((n) => n.id).filter((id) => !failedItems.has(`network:${id}`) && p.target.ns.has(overlayNs(id)));
    const sandboxes = desired.sandboxes.map((s) => s.id).filter((id) => !failedItems.has(`sandbox:${id}`) && p.target.ns.has(sandboxNs(id)));
    const remotes = desired.remotes.filter((r) => !failedItems.has(`remote:${r.network}/${r.ip}`)).length;
    const reachedSb = new Set(sandboxes);
    const loadBalancers = desired.sandboxes.flatMap((s) =>
      !reachedSb.has(s.id)
        ? []
        : (s.loadBalancers ?? [])
            .filter((lb) => !failedItems.has(lbItem(s.id, lb.service)) && ((lb.ports?.length ?? 0) === 0 || !failedItems.has(`ingress:${s.id}`)))
            .map((lb) => `${s.id}/${lb.service}`),
    );
    const loadBalancersReached = [...new Set(loadBalancers)];
    const gwbridge = !failedItems.has('gwbridge') && p.target.ns.get(HOST_NS)?.nft.has(`ip ${this.cfg.nftTable}`) === true;
    const report: ReconcileReport = {
      opCount: p.ops.length,
      errors,
      reached: { networks, sandboxes, remotes, gwbridge, loadBalancers: loadBalancersReached },
      durationMs: this.clock.now() - t0,
      phasesMs: { observe: t1 - t0, plan: t2 - t1, apply: t3 - t2, record: t4 - t3 },
    };
    this.log.debug({ ops: report.opCount, errors: errors.length, ms: report.durationMs }, 'dataplane reconciled');
    return report;
  }

  /** The host's nft tables that are the dataplane's. */
  private hostTables(): string[] {
    return [`ip ${this.cfg.nftTable}`, `ip ${this.cfg.ingressNftTable}`];
  }

  /** Completes what observe() did not read from the verified states. */
  private fillFromCache(observed: KernelState): void {
    for (const [ns, inode] of observed.namespaces) {
      const v = this.verified.get(ns);
      if (v === undefined || v.inode !== inode) continue;
      const read = observed.read.get(ns);
      const got = observed.ns.get(ns);
      if (read === undefined) observed.ns.set(ns, v.state);
      else if (read === 'entries' && got !== undefined) observed.ns.set(ns, { ...v.state, neigh: got.neigh, fdb: got.fdb });
    }
    if (!observed.read.has(HOST_NS) && this.host !== undefined) {
      observed.ns.set(HOST_NS, this.host.state);
      for (const [k, v] of this.host.sysctls) observed.sysctls.set(k, v);
    }
  }

  /** Records namespaces that now match their target; forgets the rest so they are read again. */
  private async remember(
    target: TargetState,
    observed: KernelState,
    results: readonly OpResult[],
    sigs: Signatures,
    failed: Set<NsName>,
    dirty: (ns: NsName) => boolean,
    changed: boolean,
  ): Promise<void> {
    const inodes = changed ? await this.kernel.listNamespaces() : observed.namespaces;
    for (const ns of [...this.verified.keys()]) if (!target.ns.has(ns) || !inodes.has(ns)) this.verified.delete(ns);
    for (const [ns, t] of target.ns) {
      if (ns === HOST_NS || !dirty(ns)) continue;
      const sig = sigs.structure.get(ns);
      const inode = inodes.get(ns);
      if (failed.has(ns) || sig === undefined || inode === undefined) {
        this.verified.delete(ns);
        continue;
      }
      this.verified.set(ns, { inode, signature: sig, entries: sigs.entries.get(ns), state: expectedState(t) });
    }
    if (!dirty(HOST_NS)) return;
    const hostObs = observed.ns.get(HOST_NS);
    const hostT = target.ns.get(HOST_NS);
    if (failed.has(HOST_NS) || hostObs === undefined || hostT === undefined) {
      this.host = undefined;
      return;
    }
    // The host also holds what is not ours (uplinks, routes): start from what was read back.
    const nft = new Map(hostObs.nft ?? []);
    const st: NsState = { links: new Map(hostObs.links), addrs: new Set(hostObs.addrs), routes: new Set(hostObs.routes), neigh: new Set(), fdb: new Set(), nft };
    for (const r of results) {
      if (r.op.ns !== HOST_NS) continue;
      if (r.op.op === 'link-del') {
        st.links.delete(r.op.name);
        for (const a of [...st.addrs]) if (a.startsWith(`${r.op.name} `)) st.addrs.delete(a);
      }
      if (r.op.op === 'nft-table-del') nft.delete(`${r.op.family} ${r.op.table}`);
    }
    const expected = expectedState(hostT);
    for (const [name, l] of expected.links) st.links.set(name, { ...(st.links.get(name) ?? {}), ...l, mac: st.links.get(name)?.mac ?? l.mac });
    for (const a of expected.addrs) st.addrs.add(a);
    for (const [k, t] of hostT.nft) nft.set(k, nftKeys(t));
    const sysctls = new Map(observed.sysctls);
    for (const [k, v] of target.sysctls) sysctls.set(k, v.value);
    this.host = { signature: sigs.host, state: st, sysctls };
  }
}

/** Whether the tables `names` (as read or remembered) are the target's, by rule keys; others' tables do not count. */
function sameTables(
  have: ReadonlyMap<string, ReadonlySet<string>> | undefined,
  want: ReadonlyMap<string, TargetNftTable> | undefined,
  names: readonly string[],
): boolean {
  return names.every((k) => {
    const h = have?.get(k);
    const t = want?.get(k);
    if (t === undefined || h === undefined) return t === h;
    const keys = nftKeys(t);
    return h.size === keys.size && [...keys].every((x) => h.has(x));
  });
}

/** The namespaces an op affects (a veth touches both ends). */
function touched(op: KernelOp): NsName[] {
  if (op.op === 'veth-add') return [op.ns, op.peerNs];
  return [op.ns];
}

/** The namespace state the target describes, as observe() would report it. */
function expectedState(t: TargetNs): NsState {
  const st: NsState = {
    links: new Map(),
    addrs: new Set(t.addrs.keys()),
    routes: new Set(t.routes.keys()),
    neigh: new Set(t.neigh.keys()),
    fdb: new Set(t.fdb.keys()),
    sysctls: new Map([...t.sysctls].map(([k, v]) => [k, v.value])),
    nft: new Map([...t.nft].map(([k, v]) => [k, nftKeys(v)])),
  };
  for (const l of t.links.values()) {
    st.links.set(l.name, {
      name: l.name,
      kind: l.kind === 'lo' ? 'other' : l.kind,
      mtu: l.mtu ?? 0,
      up: l.up ?? false,
      mac: l.mac ?? '',
      ...(l.master !== undefined ? { master: l.master } : {}),
      ...(l.vxlan !== undefined ? { vxlan: l.vxlan } : {}),
      ...(l.master !== undefined ? { isolated: l.isolated ?? false } : {}),
      ...(l.create?.op === 'bridge-add' && l.create.alias !== undefined ? { alias: l.create.alias } : {}),
    });
  }
  return st;
}
