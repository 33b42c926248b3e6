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
} from './kernel/types.js';
import type { DataplaneConfig, DesiredState } from './model.js';
import { overlayNs, sandboxNs } from './naming.js';
import { compileTarget, recompileRemotes, type Compiled } from './plan/compile-target.js';
import { plan } from './plan/planner.js';
import type { TargetNs, TargetState } from './plan/target.js';
import { SignatureTracker, type Signatures } from './signatures.js';

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
  readonly state: NsState;
  readonly nft: Map<string, Set<string>>;
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
 * planned. The existence and inode of every namespace file are checked on every call. A restarted daemon has verified nothing, so its first call reads everything, and
 * `fullReadback` forces that at any time. This keeps a one-peer change to a node with
 * hundreds of sandboxes from reading hundreds of namespaces.
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
    const observed = await this.kernel.observe({ depth });
    const t1 = this.clock.now();
    this.fillFromCache(observed);
    const dirty = (ns: NsName) => observed.read.has(ns) || (ns !== HOST_NS && !observed.namespaces.has(ns));
    // When only remote endpoints changed and the host was not read, the last compilation
    // holds except for the overlays' entries: skip compiling hundreds of sandboxes again.
    const key = sigs.structureKey;
    const reuse = this.last !== undefined && this.last.key === key && !observed.read.has(HOST_NS);
    const prevEntries = this.last?.entries;
    const changedNets = new Set(desired.networks.filter((n) => sigs.entries.get(overlayNs(n.id)) !== prevEntries?.get(overlayNs(n.id))).map((n) => n.id));
    const compiled =
      reuse && this.last !== undefined ? recompileRemotes(this.last.compiled, desired, this.cfg, changedNets) : compileTarget(desired, this.cfg, observed);
    this.last = { key, entries: sigs.entries, compiled };
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
    const report: ReconcileReport = {
      opCount: p.ops.length,
      errors,
      reached: { networks, sandboxes, remotes, gwbridge: !failedItems.has('gwbridge') && p.target.nft.size > 0 },
      durationMs: this.clock.now() - t0,
      phasesMs: { observe: t1 - t0, plan: t2 - t1, apply: t3 - t2, record: t4 - t3 },
    };
    this.log.debug({ ops: report.opCount, errors: errors.length, ms: report.durationMs }, 'dataplane reconciled');
    return report;
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
      for (const [k, v] of this.host.nft) observed.nft.set(k, v);
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
    const st: NsState = { links: new Map(hostObs.links), addrs: new Set(hostObs.addrs), routes: new Set(hostObs.routes), neigh: new Set(), fdb: new Set() };
    const nft = new Map(observed.nft);
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
    for (const [k, t] of target.nft) nft.set(k, new Set(t.chains.flatMap((c) => c.rules.map((r) => r.key))));
    const sysctls = new Map(observed.sysctls);
    for (const [k, v] of target.sysctls) sysctls.set(k, v.value);
    this.host = { signature: sigs.host, state: st, nft, sysctls };
  }
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
