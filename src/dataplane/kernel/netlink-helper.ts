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
  | { readonly kind: 'read'; readonly refresh?: boolean }
  | { readonly kind: 'apply'; readonly ops: readonly EntryOp[] }
);

export type HelperReply =
  | { readonly id: 0; readonly kind: 'ready' }
  | { readonly id: number; readonly kind: 'read'; readonly neigh: string[]; readonly fdb: string[] }
  | { readonly id: number; readonly kind: 'apply'; readonly errors: (string | null)[] }
  | { readonly id: number; readonly kind: 'error'; readonly error: string };

const AF_INET = 2;
const AF_BRIDGE = 7;
const RTM_NEWNEIGH = 28;
const RTM_GETNEIGH = 30;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_IFINDEX = 8;
const NUD_PERMANENT = 0x80;

interface RawNeigh {
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
  return { ifindex: b.readInt32LE(4), state: b.readUInt16LE(8), dst, lladdr };
}

const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));
const fmtMac = (b: Buffer | undefined) => (b === undefined ? '' : [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));

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

  /** Only the VXLAN device carries remote entries: dump just its entries. */
  const read = async (refresh: boolean): Promise<{ neigh: string[]; fdb: string[] }> => {
    if (refresh || vxlans.size === 0) await refreshLinks();
    const neigh: string[] = [];
    const fdb: string[] = [];
    for (const ifindex of vxlans) {
      const dev = names.get(ifindex) ?? '?';
      for (const n of await dumpNeigh(AF_INET, ifindex)) {
        if ((n.state & NUD_PERMANENT) !== 0 && n.dst?.length === 4 && n.lladdr !== undefined) neigh.push(`${dev} ${n.dst.join('.')} ${fmtMac(n.lladdr)}`);
      }
      for (const n of await dumpNeigh(AF_BRIDGE, ifindex)) {
        if ((n.state & NUD_PERMANENT) !== 0 && n.dst?.length === 4) fdb.push(`${dev} ${fmtMac(n.lladdr)} ${n.dst.join('.')}`);
      }
    }
    return { neigh, fdb };
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
