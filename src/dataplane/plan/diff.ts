import { sortByStage } from '../kernel/stages.js';
import { HOST_NS, SYSCTL_ABSENT, emptyNsState, type KernelOp, type KernelState, type LinkState, type NsName, type NsState } from '../kernel/types.js';
import type { DataplaneConfig } from '../model.js';
import { GWBRIDGE_ALIAS, LB_NFT_TABLE, OWNED_HOST_VETH, OWNED_HOST_VXLAN, OWNED_NS } from '../naming.js';
import { nftKeys, type TargetLink, type TargetNs, type TargetState } from './target.js';

const STALE = 'stale';

/**
 * Compares the target with the observed kernel and returns the ops that make the kernel
 * match, sorted by stage (adds before deletes; see kernel/stages.ts). Pure.
 *
 * Ownership: inside its own namespaces (ov-*, sb-*) the dataplane owns everything; in the
 * host namespace it owns only its gw* veths, vxlan devices with its own VTEP address, the
 * gwbridge it created (alias "tsswarm") and its two nft tables (gwbridge, ingress); in a
 * sandbox, only its load balancers' nft table (besides the veths it removes through their
 * other end). Nothing else is ever deleted. nft tables are compared by their rule keys, and
 * only where they were read (NsState.nft): a table wanted where nothing was read is written.
 *
 * A namespace observed at depth 'entries' has the rest of its state from the reconciler's
 * verified cache, which equals its target by construction: only its neighbour and FDB
 * entries are compared (this keeps a one-peer change from walking a hundred veths).
 */
export function diffTarget(
  target: TargetState,
  obs: KernelState,
  cfg: DataplaneConfig,
  dirty: (ns: NsName) => boolean = () => true,
): KernelOp[] {
  const ops: KernelOp[] = [];
  const obsNs = (ns: NsName): NsState => obs.ns.get(ns) ?? emptyNsState();
  /** Links (ns/name) that are new after this plan: their observed settings do not count. */
  const fresh = new Set<string>();
  const earlyDeleted = new Set<string>();
  const key = (ns: NsName, name: string) => `${ns}/${name}`;
  const entriesOnly = (ns: NsName) => obs.read.get(ns) === 'entries';

  for (const [ns, t] of target.ns) {
    if (ns !== HOST_NS && !obs.namespaces.has(ns)) {
      ops.push({ op: 'netns-add', item: t.item, ns, ...(t.netnsFrom !== undefined ? { from: t.netnsFrom } : {}) });
    }
  }

  // Links that must be (re)created.
  for (const [ns, t] of target.ns) {
    if (!dirty(ns) || entriesOnly(ns)) continue;
    const seen = obs.namespaces.has(ns) || ns === HOST_NS ? obsNs(ns) : emptyNsState();
    for (const l of t.links.values()) {
      if (l.create === undefined) continue;
      const o = seen.links.get(l.name);
      const peerObs = l.peer !== undefined ? observedLink(obs, l.peer.ns, l.peer.name) : undefined;
      const peerT = l.peer !== undefined ? target.ns.get(l.peer.ns)?.links.get(l.peer.name) : undefined;
      const bad = o !== undefined && mismatched(l, o, peerObs, peerT);
      if (o !== undefined && !bad) continue;
      if (bad) {
        ops.push({ op: 'link-del', item: l.item, ns, name: l.name, early: true });
        earlyDeleted.add(key(ns, l.name));
      } else if (l.peer !== undefined && peerObs !== undefined) {
        // A stray end of a broken pair holds the peer's name.
        ops.push({ op: 'link-del', item: l.item, ns: l.peer.ns, name: l.peer.name, early: true });
        earlyDeleted.add(key(l.peer.ns, l.peer.name));
      }
      if (l.kind === 'vxlan' && ns !== HOST_NS && obsNs(HOST_NS).links.has(l.name)) {
        // Left in the host namespace by a crash between create and move.
        ops.push({ op: 'link-del', item: l.item, ns: HOST_NS, name: l.name, early: true });
        earlyDeleted.add(key(HOST_NS, l.name));
      }
      ops.push(l.create);
      fresh.add(key(ns, l.name));
      if (l.peer !== undefined) fresh.add(key(l.peer.ns, l.peer.name));
    }
  }

  // Settings, addresses, routes, neighbours, FDB.
  const freshNs = new Set([...fresh, ...earlyDeleted].map((k) => k.slice(0, k.indexOf('/'))));
  const sets: KernelOp[] = [];
  const adds: KernelOp[] = [];
  const tables: KernelOp[] = [];
  for (const [ns, t] of target.ns) {
    if (!dirty(ns)) continue;
    const seen = obs.namespaces.has(ns) || ns === HOST_NS ? obsNs(ns) : emptyNsState();
    const isFresh = (dev: string) => fresh.has(key(ns, dev)) || earlyDeleted.has(key(ns, dev));
    // Usually no device of this namespace is new: then an entry that is there needs no
    // look at its device (this keeps a one-peer change from splitting a thousand entries).
    const anyFresh = freshNs.has(ns);
    const onlyEntries = entriesOnly(ns);
    for (const l of onlyEntries ? [] : t.links.values()) {
      const o = isFresh(l.name) ? undefined : seen.links.get(l.name);
      if (o === undefined && l.kind !== 'lo' && !fresh.has(key(ns, l.name))) continue; // not there, nothing creates it
      const set: { master?: string; mtu?: number; up?: boolean; isolated?: boolean } = {};
      if (l.master !== undefined && o?.master !== l.master) set.master = l.master;
      if (l.mtu !== undefined && o?.mtu !== l.mtu) set.mtu = l.mtu;
      if (l.up === true && o?.up !== true) set.up = true;
      if (l.isolated !== undefined && (o?.isolated ?? false) !== l.isolated) set.isolated = l.isolated;
      if (Object.keys(set).length > 0) sets.push({ op: 'link-set', item: l.item, ns, name: l.name, ...set });
    }
    for (const [a, item] of onlyEntries ? [] : t.addrs) {
      const [dev = '', cidr = ''] = a.split(' ');
      if (isFresh(dev) || !seen.addrs.has(a)) adds.push({ op: 'addr-add', item, ns, dev, cidr });
    }
    for (const [r, route] of onlyEntries ? [] : t.routes) {
      if (isFresh(route.dev) || !seen.routes.has(r)) adds.push({ op: 'route-add', ns, ...route });
    }
    for (const [n, item] of t.neigh) {
      if (!anyFresh && seen.neigh.has(n)) continue;
      const [dev = '', ip = '', mac = ''] = n.split(' ');
      if (isFresh(dev) || !seen.neigh.has(n)) adds.push({ op: 'neigh-add', item, ns, dev, ip, mac });
    }
    for (const [f, item] of t.fdb) {
      if (!anyFresh && seen.fdb.has(f)) continue;
      const [dev = '', mac = '', dst = ''] = f.split(' ');
      if (isFresh(dev) || !seen.fdb.has(f)) adds.push({ op: 'fdb-add', item, ns, dev, mac, dst });
    }
    for (const [k, s] of ns === HOST_NS || onlyEntries ? [] : t.sysctls) {
      const v = seen.sysctls?.get(k);
      if (v !== s.value && v !== SYSCTL_ABSENT) adds.push({ op: 'sysctl', item: s.item, ns, key: k, value: s.value, ifPresent: true });
    }
    for (const tbl of onlyEntries ? [] : t.nft.values()) {
      const have = seen.nft?.get(`${tbl.family} ${tbl.table}`);
      const want = nftKeys(tbl);
      if (have === undefined || have.size !== want.size || [...want].some((w) => !have.has(w))) {
        tables.push({ op: 'nft-table', item: tbl.item, ns, family: tbl.family, table: tbl.table, chains: tbl.chains });
      }
    }
  }
  // Within one namespace's batch: links first, then addresses, routes, neighbours.
  ops.push(...sets, ...adds.filter((o) => o.op === 'addr-add'), ...adds.filter((o) => o.op !== 'addr-add'), ...tables);
  for (const [k, s] of dirty(HOST_NS) ? target.sysctls : []) {
    if (obs.sysctls.get(k) !== s.value) ops.push({ op: 'sysctl', item: s.item, ns: HOST_NS, key: k, value: s.value });
  }

  ops.push(...staleOps(target, obs, cfg, earlyDeleted, dirty));
  return sortByStage(ops);
}

function observedLink(obs: KernelState, ns: NsName, name: string): LinkState | undefined {
  if (ns !== HOST_NS && !obs.namespaces.has(ns)) return undefined;
  return obs.ns.get(ns)?.links.get(name);
}

function mismatched(l: TargetLink, o: LinkState, peerObs: LinkState | undefined, peerT: TargetLink | undefined): boolean {
  if (o.kind !== l.kind) return true;
  if (l.vxlan !== undefined) {
    const v = o.vxlan;
    if (v === undefined) return true;
    if (v.vni !== l.vxlan.vni || v.port !== l.vxlan.port || v.local !== l.vxlan.local) return true;
    if (v.learning !== l.vxlan.learning || v.proxy !== l.vxlan.proxy) return true;
  }
  if (l.peer !== undefined) {
    if (peerObs === undefined || peerObs.kind !== 'veth') return true;
    if (peerT?.mac !== undefined && peerObs.mac !== peerT.mac) return true;
  }
  return false;
}

function staleOps(
  target: TargetState,
  obs: KernelState,
  cfg: DataplaneConfig,
  early: Set<string>,
  dirty: (ns: NsName) => boolean,
): KernelOp[] {
  const ops: KernelOp[] = [];
  const spaces = new Set<NsName>([HOST_NS, ...obs.namespaces.keys()]);
  for (const ns of spaces) {
    if (ns !== HOST_NS && !OWNED_NS.test(ns)) continue;
    const t: TargetNs | undefined = target.ns.get(ns);
    if (t !== undefined && !dirty(ns)) continue;
    const seen = obs.ns.get(ns) ?? emptyNsState();
    const item = t?.item ?? STALE;
    const deleted = new Set<string>();
    const onlyEntries = obs.read.get(ns) === 'entries';
    for (const k of onlyEntries ? [] : (seen.nft?.keys() ?? [])) {
      if (t?.nft.has(k) === true || !ownsNftTable(ns, k, cfg)) continue;
      const [family = '', table = ''] = k.split(' ');
      ops.push({ op: 'nft-table-del', item: STALE, ns, family, table });
    }
    for (const l of onlyEntries ? [] : seen.links.values()) {
      if (t?.links.has(l.name) === true || early.has(`${ns}/${l.name}`)) continue;
      if (!ownsLink(ns, l, cfg)) continue;
      ops.push({ op: 'link-del', item, ns, name: l.name });
      deleted.add(l.name);
    }
    if (ns !== HOST_NS) {
      const gone = (dev: string) => deleted.has(dev) || dev === 'lo' || t === undefined;
      for (const a of onlyEntries ? [] : seen.addrs) {
        const [dev = '', cidr = ''] = a.split(' ');
        if (!gone(dev) && t?.addrs.has(a) !== true) ops.push({ op: 'addr-del', item, ns, dev, cidr });
      }
      for (const r of onlyEntries ? [] : seen.routes) {
        const m = /^(\S+) via (\S+) dev (\S+)$/.exec(r);
        if (m === null || gone(m[3] as string) || t?.routes.has(r) === true) continue;
        ops.push({ op: 'route-del', item, ns, dst: m[1] as string, via: m[2] as string, dev: m[3] as string });
      }
      for (const n of seen.neigh) {
        if (t?.neigh.has(n) === true) continue;
        const [dev = '', ip = '', mac = ''] = n.split(' ');
        if (!gone(dev) && t?.neigh.has(n) !== true) ops.push({ op: 'neigh-del', item, ns, dev, ip, mac });
      }
      for (const f of seen.fdb) {
        if (t?.fdb.has(f) === true) continue;
        const [dev = '', mac = '', dst = ''] = f.split(' ');
        if (!gone(dev) && t?.fdb.has(f) !== true) ops.push({ op: 'fdb-del', item, ns, dev, mac, dst });
      }
      if (t === undefined) ops.push({ op: 'netns-del', item, ns });
    }
  }
  return ops;
}

/** The nft tables ("FAMILY NAME") the dataplane made and may delete in a namespace. */
function ownsNftTable(ns: NsName, key: string, cfg: DataplaneConfig): boolean {
  if (ns === HOST_NS) return key === `ip ${cfg.nftTable}` || key === `ip ${cfg.ingressNftTable}`;
  return ns.startsWith('sb-') && key === `ip ${LB_NFT_TABLE}`;
}

/**
 * Whether a link not in the target may be deleted. Veths inside sandboxes are removed through
 * their other end (deleting both ends would make the second delete fail).
 */
function ownsLink(ns: NsName, l: LinkState, cfg: DataplaneConfig): boolean {
  if (l.name === 'lo') return false;
  if (ns === HOST_NS) {
    if (l.kind === 'veth' && OWNED_HOST_VETH.test(l.name)) return true;
    if (l.kind === 'vxlan' && OWNED_HOST_VXLAN.test(l.name)) return l.vxlan?.local === cfg.dataPathAddr;
    return l.name === cfg.gwbridgeName && l.alias === GWBRIDGE_ALIAS;
  }
  // The dataplane makes only veths in a sandbox, and removes them through their other end;
  // anything else there belongs to whoever owns an adopted namespace (a container).
  if (ns.startsWith('sb-')) return false;
  return true;
}
