import { networkOf } from '../ipv4.js';
import { formatOp } from './format-op.js';
import { formatRoute } from './parse-readback.js';
import {
  HOST_NS,
  emptyNsState,
  type Kernel,
  type KernelOp,
  type KernelState,
  type LinkState,
  type NsName,
  type NsState,
  type ObserveScope,
  type ReadDepth,
  type OpResult,
} from './types.js';

/**
 * A recording fake kernel for testing the layers above without root: it keeps an in-memory
 * model of namespaces, links, addresses, routes, neighbours, FDB, nft tables and sysctls,
 * applies ops with the kernel's main rules (names unique per namespace, veth peers die
 * together, deleting a namespace deletes what it holds), and records every op as a line of
 * text for tests to compare.
 */
export class FakeKernel implements Kernel {
  readonly log: string[] = [];
  private readonly spaces = new Map<NsName, NsState>([[HOST_NS, withLoopback({ ...emptyNsState(), nft: new Map() })]]);
  private readonly inodes = new Map<NsName, number>();
  private readonly peers = new Map<string, string>();
  private readonly sysctls = new Map<string, string>();
  private nextInode = 4026531000;
  /** Ops for which this returns a message fail with it (failure injection). */
  failWhen: (op: KernelOp) => string | undefined = () => undefined;

  /** Seeds the host namespace, e.g. with an uplink and its routes. */
  seedHost(fn: (host: NsState) => void): void {
    fn(this.spaces.get(HOST_NS) as NsState);
  }

  setSysctl(key: string, value: string): void {
    this.sysctls.set(key, value);
  }

  async listNamespaces(): Promise<Map<NsName, number>> {
    return new Map(this.inodes);
  }

  async observe(scope: ObserveScope): Promise<KernelState> {
    const ns = new Map<NsName, NsState>();
    const read = new Map<NsName, ReadDepth>();
    for (const [name, st] of this.spaces) {
      const depth = scope.depth(name, this.inodes.get(name) ?? 0);
      if (depth === 'none') continue;
      const copy = cloneNs(st);
      // As the real kernel: a namespace's nft tables are read with the host or when asked for.
      const withNft = name === HOST_NS || scope.extras?.(name, this.inodes.get(name) ?? 0).nft === true;
      const { nft: _nft, ...rest } = copy;
      ns.set(name, depth === 'full' ? (withNft ? copy : rest) : { ...emptyNsState(), neigh: copy.neigh, fdb: copy.fdb });
      read.set(name, depth);
    }
    const hostFull = read.get(HOST_NS) === 'full';
    return { namespaces: new Map(this.inodes), ns, read, sysctls: hostFull ? new Map(this.sysctls) : new Map() };
  }

  async apply(ops: readonly KernelOp[]): Promise<OpResult[]> {
    return ops.map((op) => {
      this.log.push(formatOp(op));
      const error = this.failWhen(op) ?? this.applyOne(op);
      return error === undefined ? { op } : { op, error };
    });
  }

  /** A stable text dump of the whole fake kernel, for comparing end states. */
  dump(): string {
    const out: string[] = [];
    for (const name of [...this.spaces.keys()].sort()) {
      const st = this.spaces.get(name) as NsState;
      out.push(`ns ${name}`);
      for (const l of [...st.links.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        out.push(
          `  link ${l.name} ${l.kind} mtu ${l.mtu}${l.up ? ' up' : ''}${l.master !== undefined ? ` master ${l.master}` : ''}` +
            `${l.isolated === true ? ' isolated' : ''}${l.vxlan !== undefined ? ` vni ${l.vxlan.vni} local ${l.vxlan.local}` : ''}`,
        );
      }
      for (const k of ['addrs', 'routes', 'neigh', 'fdb'] as const) for (const v of [...st[k]].sort()) out.push(`  ${k} ${v}`);
      for (const [k, v] of [...(st.sysctls ?? [])].sort()) out.push(`  sysctl ${k}=${v}`);
      if (name !== HOST_NS) for (const [t, keys] of [...(st.nft ?? [])].sort()) out.push(`  nft ${t}: ${[...keys].sort().join(',')}`);
    }
    const hostNft = this.spaces.get(HOST_NS)?.nft ?? new Map<string, Set<string>>();
    for (const [t, keys] of [...hostNft].sort()) out.push(`nft ${t}: ${[...keys].sort().join(',')}`);
    for (const [k, v] of [...this.sysctls].sort()) out.push(`sysctl ${k}=${v}`);
    return out.join('\n');
  }

  private space(ns: NsName): NsState | undefined {
    return this.spaces.get(ns);
  }

  private addLink(ns: NsName, link: LinkState): string | undefined {
    const st = this.space(ns);
    if (st === undefined) return `namespace ${ns} does not exist`;
    if (st.links.has(link.name)) return 'RTNETLINK answers: File exists';
    st.links.set(link.name, link);
    return undefined;
  }

  private delLink(ns: NsName, name: string): void {
    const st = this.space(ns);
    if (st === undefined || !st.links.has(name)) return;
    st.links.delete(name);
    for (const k of ['addrs', 'neigh', 'fdb'] as const) for (const v of [...st[k]]) if (v.split(' ')[0] === name) st[k].delete(v);
    for (const r of [...st.routes]) if (r.endsWith(` dev ${name}`)) st.routes.delete(r);
    for (const [n, l] of st.links) if (l.master === name) st.links.set(n, withoutMaster(l));
    const key = `${ns}/${name}`;
    const peer = this.peers.get(key);
    if (peer !== undefined) {
      this.peers.delete(key);
      this.peers.delete(peer);
      const [pns, pname] = splitKey(peer);
      this.delLink(pns, pname);
    }
  }

  private applyOne(op: KernelOp): string | undefined {
    switch (op.op) {
      case 'netns-add':
        if (this.spaces.has(op.ns)) return 'File exists';
        // A new namespace's sysctls are the kernel's defaults: none of ours is set yet.
        this.spaces.set(op.ns, withLoopback({ ...emptyNsState(), sysctls: new Map(), nft: new Map() }));
        this.inodes.set(op.ns, this.nextInode++);
        return undefined;
      case 'netns-del': {
        const st = this.space(op.ns);
        if (st === undefined) return 'No such file or directory';
        for (const name of [...st.links.keys()]) this.delLink(op.ns, name);
        this.spaces.delete(op.ns);
        this.inodes.delete(op.ns);
        return undefined;
      }
      case 'bridge-add':
        return this.addLink(op.ns, {
          name: op.name,
          kind: 'bridge',
          mtu: op.mtu,
          up: false,
          mac: fakeMac(op.name),
          ...(op.alias !== undefined ? { alias: op.alias } : {}),
        });
      case 'vxlan-add':
        if (this.space(HOST_NS)?.links.has(op.name) === true && op.ns !== HOST_NS) return 'RTNETLINK answers: File exists';
        return this.addLink(op.ns, {
          name: op.name,
          kind: 'vxlan',
          mtu: op.mtu,
          up: false,
          mac: fakeMac(op.name),
          vxlan: { vni: op.vni, port: op.port, local: op.local, learning: false, proxy: true },
        });
      case 'veth-add': {
        const peerSt = this.space(op.peerNs);
        if (peerSt === undefined) return `namespace ${op.peerNs} does not exist`;
        if (peerSt.links.has(op.peerName)) return 'RTNETLINK answers: File exists';
        const err = this.addLink(op.ns, { name: op.name, kind: 'veth', mtu: op.mtu, up: false, mac: fakeMac(op.name) });
        if (err !== undefined) return err;
        peerSt.links.set(op.peerName, { name: op.peerName, kind: 'veth', mtu: op.mtu, up: false, mac: op.peerMac ?? fakeMac(op.peerName) });
        this.peers.set(`${op.ns}/${op.name}`, `${op.peerNs}/${op.peerName}`);
        this.peers.set(`${op.peerNs}/${op.peerName}`, `${op.ns}/${op.name}`);
        return undefined;
      }
      case 'link-set': {
        const st = this.space(op.ns);
        const l = st?.links.get(op.name);
        if (st === undefined || l === undefined) return `Cannot find device "${op.name}"`;
        if (op.master !== undefined && st.links.get(op.master)?.kind !== 'bridge') return `Device does not exist`;
        // The kernel gives loopback its address when it comes up.
        if (op.name === 'lo' && op.up === true) st.addrs.add('lo 127.0.0.1/8');
        const master = op.master ?? l.master;
        st.links.set(op.name, {
          ...l,
          ...(master !== undefined ? { master } : {}),
          ...(op.mtu !== undefined ? { mtu: op.mtu } : {}),
          ...(op.up !== undefined ? { up: op.up } : {}),
          ...(master !== undefined ? { isolated: op.isolated ?? l.isolated ?? false } : {}),
        });
        return undefined;
      }
      case 'link-del':
        if (this.space(op.ns)?.links.has(op.name) !== true) return `Cannot find device "${op.name}"`;
        this.delLink(op.ns, op.name);
        return undefined;
      case 'addr-add':
      case 'addr-del': {
        const st = this.space(op.ns);
        if (st?.links.has(op.dev) !== true) return `Cannot find device "${op.dev}"`;
        const key = `${op.dev} ${op.cidr}`;
        const route = `${networkOf(op.cidr)} dev ${op.dev}`;
        if (op.op === 'addr-add') {
          if (st.addrs.has(key)) return 'RTNETLINK answers: File exists';
          st.addrs.add(key);
          st.routes.add(route);
        } else {
          if (!st.addrs.delete(key)) return 'RTNETLINK answers: Cannot assign requested address';
          st.routes.delete(route);
        }
        return undefined;
      }
      case 'route-add':
      case 'route-del': {
        const st = this.space(op.ns);
        if (st?.links.has(op.dev) !== true) return `Cannot find device "${op.dev}"`;
        const key = formatRoute(op.dst, op.via, op.dev);
        if (op.op === 'route-add') st.routes.add(key);
        else if (!st.routes.delete(key)) return 'RTNETLINK answers: No such process';
        return undefined;
      }
      case 'neigh-add':
      case 'neigh-del':
      case 'fdb-add':
      case 'fdb-del': {
        const st = this.space(op.ns);
        if (st?.links.has(op.dev) !== true) return `Cannot find device "${op.dev}"`;
        const table = op.op.startsWith('neigh') ? st.neigh : st.fdb;
        const key = op.op.startsWith('neigh') ? `${op.dev} ${(op as { ip: string }).ip}` : `${op.dev} ${op.mac}`;
        for (const v of [...table]) if (v.startsWith(`${key} `)) table.delete(v);
        if (op.op === 'neigh-add') table.add(`${op.dev} ${op.ip} ${op.mac}`);
        if (op.op === 'fdb-add') table.add(`${op.dev} ${op.mac} ${op.dst}`);
        return undefined;
      }
      case 'nft-table': {
        const nft = this.space(op.ns)?.nft;
        if (nft === undefined) return `namespace ${op.ns} does not exist`;
        nft.set(`${op.family} ${op.table}`, new Set(op.chains.flatMap((c) => c.rules.map((r) => r.key))));
        return undefined;
      }
      case 'nft-table-del':
        return this.space(op.ns)?.nft?.delete(`${op.family} ${op.table}`) === true ? undefined : 'No such file or directory';
      case 'sysctl': {
        if (op.ns === HOST_NS) {
          this.sysctls.set(op.key, op.value);
          return undefined;
        }
        const st = this.space(op.ns);
        if (st === undefined) return 'No such file or directory';
        st.sysctls?.set(op.key, op.value);
        return undefined;
      }
    }
  }
}

function withLoopback(st: NsState): NsState {
  st.links.set('lo', { name: 'lo', kind: 'other', mtu: 65536, up: false, mac: '00:00:00:00:00:00' });
  return st;
}

function cloneNs(st: NsState): NsState {
  return {
    links: new Map(st.links),
    addrs: new Set(st.addrs),
    routes: new Set(st.routes),
    neigh: new Set(st.neigh),
    fdb: new Set(st.fdb),
    ...(st.sysctls !== undefined ? { sysctls: new Map(st.sysctls) } : {}),
    ...(st.nft !== undefined ? { nft: new Map([...st.nft].map(([k, v]) => [k, new Set(v)])) } : {}),
  };
}

function withoutMaster(l: LinkState): LinkState {
  const { master: _m, isolated: _i, ...rest } = l;
  return rest;
}

function splitKey(key: string): [NsName, string] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** A deterministic MAC from a name, so dumps are stable. */
function fakeMac(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const b = [0x02, 0xfa, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
