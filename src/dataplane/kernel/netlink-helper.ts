import { FlagsGet, FlagsNew, createRtNetlink } from 'netlink';

/**
 * A helper process that lives in one overlay namespace (started with `nsenter --net=FILE node
 * netlink-helper.js`, IPC on fd 3) and reads and writes that namespace's neighbour and FDB
 * entries over an rtnetlink socket opened there: a netlink socket belongs to the namespace
 * of the thread that opens it, and Node cannot change namespace. It turns a remote-endpoint
 * change into two netlink round trips instead of two process execs. It exits when its parent
 * goes away (IPC disconnect).
 */

export type EntryOp =
  | { readonly op: 'neigh-add' | 'neigh-del'; readonly dev: string; readonly ip: string; readonly mac: string }
  | { readonly op: 'fdb-add' | 'fdb-del'; readonly dev: string; readonly mac: string; readonly dst: string };

export type HelperRequest = { readonly id: number } & (
  /** refresh: dump again even if the mirror is current (after links changed, or a new reader). */
  | { readonly kind: 'read'; readonly refresh?: boolean }
  | { readonly kind: 'apply'; readonly ops: readonly EntryOp[] }
);

export type HelperReply =
  | { readonly id: 0; readonly kind: 'ready' }
  /**
   * full: neigh and fdb are every entry; else they are the entries added since the previous
   * read reply, and the *Gone lists the entries removed since then.
   */
  | {
      readonly id: number;
      readonly kind: 'read';
      readonly full: boolean;
      readonly neigh: string[];
      readonly fdb: string[];
      readonly neighGone: string[];
      readonly fdbGone: string[];
    }
  | { readonly id: number; readonly kind: 'apply'; readonly errors: (string | null)[] }
  | { readonly id: number; readonly kind: 'error'; readonly error: string };

const AF_INET = 2;
const AF_BRIDGE = 7;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const RTM_GETNEIGH = 30;
const RTNLGRP_LINK = 1;
const RTNLGRP_NEIGH = 3;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_IFINDEX = 8;
const NUD_PERMANENT = 0x80;

interface RawNeigh {
  readonly family: number;
  readonly ifindex: number;
  readonly state: number;
  readonly dst?: Buffer;
  readonly lladdr?: Buffer;
}

/** struct ndmsg (12 bytes) and the two attributes we need. */
function parseNeigh(b: Buffer): RawNeigh {
  let dst: Buffer | undefined;
  let lladdr: Buffer | undefined;
  for (let off = 12; off + 4 <= b.length; ) {
    const len = b.readUInt16LE(off);
    if (len < 4) break;
    const type = b.readUInt16LE(off + 2) & 0x3fff;
    if (type === NDA_DST) dst = b.subarray(off + 4, off + len);
    if (type === NDA_LLADDR) lladdr = b.subarray(off + 4, off + len);
    off += (len + 3) & ~3;
  }
  return { family: b.readUInt8(0), ifindex: b.readInt32LE(4), state: b.readUInt16LE(8), dst, lladdr };
}

const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));
const fmtMac = (b: Buffer | undefined) => (b === undefined ? '' : [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));

const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;

/** struct ifinfomsg (16 bytes): the index, name and kind of a link notification. */
function parseLink(b: Buffer): { ifindex: number; name?: string; kind?: string } {
  let name: string | undefined;
  let kind: string | undefined;
  for (let off = 16; off + 4 <= b.length; ) {
    const len = b.readUInt16LE(off);
    if (len < 4) break;
    const type = b.readUInt16LE(off + 2) & 0x3fff;
    if (type === IFLA_IFNAME) name = b.subarray(off + 4, off + len).toString('utf8').replace(/\0+$/, '');
    if (type === IFLA_LINKINFO) kind = infoKind(b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return { ifindex: b.readInt32LE(4), name, kind };
}

/** IFLA_INFO_KIND from a raw IFLA_LINKINFO (the package leaves it unparsed). */
function infoKind(info: Buffer): string | undefined {
  for (let off = 0; off + 4 <= info.length; ) {
    const len = info.readUInt16LE(off);
    if (len < 4) return undefined;
    if ((info.readUInt16LE(off + 2) & 0x3fff) === 1) return info.subarray(off + 4, off + len).toString('utf8').replace(/\0+$/, '');
    off += (len + 3) & ~3;
  }
  return undefined;
}

async function main(): Promise<void> {
  const sock = createRtNetlink();
  const names = new Map<number, string>();
  const indexes = new Map<string, number>();
  const vxlans = new Set<number>();
  // One link dump at a time: concurrent dumps on one socket confuse the replies.
  let refreshing: Promise<void> | undefined;
  const refreshLinks = (): Promise<void> => {
    refreshing ??= (async () => {
      const links = await sock.getLinks();
      names.clear();
      indexes.clear();
      vxlans.clear();
      for (const l of links) {
        if (l.attrs.ifname === undefined || l.data.index === undefined) continue;
        names.set(l.data.index, l.attrs.ifname);
        indexes.set(l.attrs.ifname, l.data.index);
        if (l.attrs.linkinfo !== undefined && infoKind(l.attrs.linkinfo) === 'vxlan') vxlans.add(l.data.index);
      }
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
  const indexOf = async (dev: string): Promise<number> => {
    if (!indexes.has(dev)) await refreshLinks();
    const i = indexes.get(dev);
    if (i === undefined) throw new Error(`Cannot find device "${dev}"`);
    return i;
  };

  /**
   * A neighbour dump filtered in the kernel to one device, parsed by hand: the package's
   * generic parser costs ~15 ms for a thousand entries, this a fraction of it.
   */
  const dumpNeigh = async (family: number, ifindex: number): Promise<RawNeigh[]> => {
    const hdr = Buffer.alloc(12);
    hdr.writeUInt8(family, 0);
    const parts = [hdr];
    if (family === AF_BRIDGE) {
      hdr.writeInt32LE(ifindex, 4); // the FDB dump filters on the bridge port given here
    } else {
      const a = Buffer.alloc(8); // NDA_IFINDEX: the neighbour dump's device filter
      a.writeUInt16LE(8, 0);
      a.writeUInt16LE(NDA_IFINDEX, 2);
      a.writeUInt32LE(ifindex, 4);
      parts.push(a);
    }
    const [msgs] = await sock.socket.request(RTM_GETNEIGH, parts, { flags: FlagsGet.DUMP });
    return msgs.filter((m) => m.type === RTM_NEWNEIGH).map((m) => parseNeigh(m.data));
  };

  /**
   * The mirror: the permanent entries of the VXLAN devices, by key ("ifindex ip" for a
   * neighbour, "ifindex mac dst" for an FDB entry) -> the line a read reports. Filled by a
   * dump, then kept current by the kernel's own change notifications (RTNLGRP_NEIGH, on a
   * second socket): every change to these tables, ours or anyone's, is announced there, so a
   * read is the kernel's state without dumping a thousand entries again. What the mirror
   * cannot follow exactly (a lost notification, a VXLAN device made, moved or removed, an FDB
   * entry whose destination was replaced) makes the next read a full dump again.
   */
  const neighM = new Map<string, string>();
  const fdbM = new Map<string, string>();
  /** The reported line (or undefined: absent) of every key changed since the last reply. */
  const changed = new Map<string, string | undefined>();
  let stale = true;
  /** Notifications that arrived during a dump, replayed onto its result. */
  let replay: RawNeigh[] | undefined;

  const neighKey = (n: RawNeigh) => `n ${n.ifindex} ${n.dst?.join('.') ?? ''}`;
  const fdbKey = (n: RawNeigh) => `f ${n.ifindex} ${fmtMac(n.lladdr)} ${n.dst?.join('.') ?? ''}`;
  const neighLine = (n: RawNeigh) =>
    (n.state & NUD_PERMANENT) !== 0 && n.dst?.length === 4 && n.lladdr !== undefined ? `${names.get(n.ifindex) ?? '?'} ${n.dst.join('.')} ${fmtMac(n.lladdr)}` : undefined;
  const fdbLine = (n: RawNeigh) =>
    (n.state & NUD_PERMANENT) !== 0 && n.dst?.length === 4 ? `${names.get(n.ifindex) ?? '?'} ${fmtMac(n.lladdr)} ${n.dst.join('.')}` : undefined;
  /** FDB destinations per "ifindex mac", to notice a second one. */
  const fdbMacs = new Map<string, number>();
  const put = (m: Map<string, string>, key: string, line: string | undefined) => {
    const before = m.get(key);
    if (before === line) return;
    if (!changed.has(key)) changed.set(key, before);
    if (m === fdbM && (before === undefined) !== (line === undefined)) {
      const mk = key.slice(0, key.lastIndexOf(' '));
      const c = (fdbMacs.get(mk) ?? 0) + (line === undefined ? -1 : 1);
      if (c > 0) fdbMacs.set(mk, c);
      else fdbMacs.delete(mk);
    }
    if (line === undefined) m.delete(key);
    else m.set(key, line);
  };
  const noteNeigh = (type: number, n: RawNeigh, dumped = false) => {
    if (!vxlans.has(n.ifindex)) return;
    if (n.family === AF_INET) put(neighM, neighKey(n), type === RTM_NEWNEIGH ? neighLine(n) : undefined);
    if (n.family !== AF_BRIDGE || n.dst?.length !== 4) return;
    const key = fdbKey(n);
    const line = type === RTM_NEWNEIGH ? fdbLine(n) : undefined;
    // A new destination for a MAC that has another: appended or replaced, a notification
    // does not say which. Dump again at the next read.
    if (!dumped && line !== undefined && !fdbM.has(key) && fdbMacs.has(key.slice(0, key.lastIndexOf(' ')))) stale = true;
    put(fdbM, key, line);
  };

  let mon: ReturnType<typeof createRtNetlink> | undefined;
  const monitor = () => {
    const m = createRtNetlink();
    m.socket.on('message', (raw: unknown) => {
      for (const msg of (Array.isArray(raw) ? raw : [raw]) as { type: number; data: Buffer }[]) {
        if (msg.type === RTM_NEWNEIGH || msg.type === RTM_DELNEIGH) {
          const n = parseNeigh(msg.data);
          replay?.push({ ...n, state: msg.type === RTM_DELNEIGH ? -1 : n.state });
          noteNeigh(msg.type, n);
        } else if (msg.type === RTM_NEWLINK || msg.type === RTM_DELLINK) {
          // A VXLAN device came, went or was renamed: the devices the mirror covers changed.
          // (Other link news, like a port going up, leaves the entries alone.)
          const l = parseLink(msg.data);
          const known = vxlans.has(l.ifindex);
          if (msg.type === RTM_DELLINK ? known : (known && l.name !== names.get(l.ifindex)) || (!known && l.kind === 'vxlan')) stale = true;
        }
      }
    });
    // ENOBUFS: notifications were lost. Start over on a new socket with a full dump.
    m.socket.on('error', () => {
      stale = true;
      if (mon === m) mon = undefined;
      try {
        m.socket.close();
      } catch {
        // Already closed.
      }
    });
    // Room for the notifications of a cold start (two per remote endpoint, ~1 KB each in
    // the buffer's accounting) while this process is busy; capped by net.core.rmem_max.
    m.socket.setRecvBufferSize(8 << 20);
    m.socket.addMembership(RTNLGRP_NEIGH);
    m.socket.addMembership(RTNLGRP_LINK);
    return m;
  };
  /**
   * Every notification the kernel queued before this returns has been handled: the reply to
   * a request on the monitoring socket comes after them in its queue.
   */
  const barrier = async (m: ReturnType<typeof createRtNetlink>): Promise<void> => {
    const ifi = Buffer.alloc(16);
    ifi.writeInt32LE(1, 4); // lo: ifindex 1 in every namespace
    await m.socket.request(RTM_GETLINK, [ifi]);
  };

  const dumpAll = async (m: ReturnType<typeof createRtNetlink>): Promise<void> => {
    replay = [];
    stale = false;
    await refreshLinks();
    const dumped: [number, RawNeigh][] = [];
    for (const ifindex of vxlans) {
      for (const n of await dumpNeigh(AF_INET, ifindex)) dumped.push([RTM_NEWNEIGH, n]);
      for (const n of await dumpNeigh(AF_BRIDGE, ifindex)) dumped.push([RTM_NEWNEIGH, n]);
    }
    await barrier(m);
    neighM.clear();
    fdbM.clear();
    fdbMacs.clear();
    for (const [type, n] of dumped) noteNeigh(type, n, true);
    const later = replay;
    replay = undefined;
    for (const n of later) noteNeigh(n.state === -1 ? RTM_DELNEIGH : RTM_NEWNEIGH, n);
    changed.clear();
  };

  /** Only the VXLAN device carries remote entries: only its entries are mirrored. */
  const read = async (refresh: boolean, tries = 0): Promise<Omit<Extract<HelperReply, { kind: 'read' }>, 'id' | 'kind'>> => {
    mon ??= monitor();
    const m = mon;
    const full = refresh || stale || vxlans.size === 0;
    if (full) await dumpAll(m);
    else await barrier(m);
    // Notifications were lost during this read: read again on the new socket.
    if (mon !== m && tries < 3) return read(true, tries + 1);
    if (!full && stale) return read(true, tries + 1);
    const out = { full, neigh: [] as string[], fdb: [] as string[], neighGone: [] as string[], fdbGone: [] as string[] };
    if (full) {
      out.neigh.push(...neighM.values());
      out.fdb.push(...fdbM.values());
    } else {
      for (const [key, before] of changed) {
        const isNeigh = key.startsWith('n ');
        const now = (isNeigh ? neighM : fdbM).get(key);
        if (now === before) continue;
        if (before !== undefined) (isNeigh ? out.neighGone : out.fdbGone).push(before);
        if (now !== undefined) (isNeigh ? out.neigh : out.fdb).push(now);
      }
    }
    changed.clear();
    return out;
  };

  const applyOne = async (o: EntryOp): Promise<void> => {
    const ifindex = await indexOf(o.dev);
    const upsert = { flags: FlagsNew.CREATE | FlagsNew.REPLACE };
    switch (o.op) {
      case 'neigh-add':
        await sock.newNeighbor({ family: AF_INET, ifindex, state: { permanent: true } }, { dst: ip4(o.ip), lladdr: mac(o.mac) }, upsert);
        return;
      case 'neigh-del':
        await sock.delNeighbor({ family: AF_INET, ifindex }, { dst: ip4(o.ip) });
        return;
      case 'fdb-add':
        await sock.newNeighbor(
          { family: AF_BRIDGE, ifindex, state: { permanent: true }, flags: { self: true } },
          { dst: ip4(o.dst), lladdr: mac(o.mac) },
          upsert,
        );
        return;
      case 'fdb-del':
        await sock.delNeighbor({ family: AF_BRIDGE, ifindex, flags: { self: true } }, { dst: ip4(o.dst), lladdr: mac(o.mac) });
        return;
    }
  };

  const send = (reply: HelperReply) => process.send?.(reply);
  process.on('disconnect', () => process.exit(0));
  let queue: Promise<unknown> = Promise.resolve();
  process.on('message', (raw: unknown) => {
    const req = raw as HelperRequest;
    const work = async (): Promise<HelperReply> => {
      if (req.kind === 'read') return { id: req.id, kind: 'read', ...(await read(req.refresh === true)) };
      // One request at a time: netlink 0.3 mixes up a dump's parts with replies to other
      // requests in flight ("Multipart message not terminated properly").
      const errors: (string | null)[] = [];
      for (const o of req.ops) {
        // A failure may come from a cached ifindex of a replaced device: refresh, retry once.
        const once = () => applyOne(o).then(() => null, (e: unknown) => (e instanceof Error ? e.message : String(e)));
        let err = await once();
        if (err !== null) {
          await refreshLinks();
          err = await once();
        }
        errors.push(err);
      }
      return { id: req.id, kind: 'apply', errors };
    };
    // Requests run one after another, for the same reason as above.
    queue = queue.then(() => work().then(send, (e: unknown) => send({ id: req.id, kind: 'error', error: e instanceof Error ? e.message : String(e) })));
  });
  send({ id: 0, kind: 'ready' });
}

await main();
