import { emptyNsState, type LinkState, type NsState } from './types.js';

/**
 * Parsers for what the kernel reports back (`ip -j -d addr/route/neigh`, `bridge -j fdb`,
 * `nft -j list ruleset`), reduced to the facts in NsState. Pure: tested with captured output.
 */

interface IpAddrJson {
  ifname: string;
  mtu: number;
  flags?: string[];
  address?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; local?: string; port?: number; learning?: boolean; proxy?: boolean };
    info_slave_kind?: string;
    info_slave_data?: { isolated?: boolean };
  };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

interface IpNeighJson {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

interface FdbJson {
  mac: string;
  ifname: string;
  dst?: string;
  state?: string;
  flags?: string[];
}

function kindOf(k: string | undefined): LinkState['kind'] {
  return k === 'bridge' || k === 'vxlan' || k === 'veth' ? k : 'other';
}

function parseJsonLine<T>(line: string | undefined): T[] {
  if (line === undefined || line.trim() === '') return [];
  return JSON.parse(line) as T[];
}

/**
 * Parses the JSON lines printed by `ip -j -d -batch` with "addr show", "route show table
 * main", "neigh show nud permanent" and optionally "link show" (for aliases), plus the line
 * of `bridge -j fdb show`.
 */
export function parseNsReadback(ipOut: string, fdbOut: string): NsState {
  const st = emptyNsState();
  const lines = ipOut.split('\n').filter((l) => l.trim() !== '');
  const [addrLine, routeLine, neighLine, linkLine] = lines;
  const aliases = new Map(parseJsonLine<{ ifname: string; ifalias?: string }>(linkLine).map((l) => [l.ifname, l.ifalias]));
  for (const l of parseJsonLine<IpAddrJson>(addrLine)) {
    const info = l.linkinfo;
    const d = info?.info_data;
    const link: LinkState = {
      name: l.ifname,
      kind: kindOf(info?.info_kind),
      mtu: l.mtu,
      up: (l.flags ?? []).includes('UP'),
      mac: l.address ?? '',
      ...(l.master !== undefined ? { master: l.master } : {}),
      ...(aliases.get(l.ifname) !== undefined ? { alias: aliases.get(l.ifname) } : {}),
      ...(info?.info_kind === 'vxlan' && d !== undefined
        ? {
            vxlan: {
              vni: d.id ?? 0,
              port: d.port ?? 0,
              local: d.local ?? '',
              learning: d.learning ?? true,
              proxy: d.proxy ?? false,
            },
          }
        : {}),
      ...(info?.info_slave_kind === 'bridge' ? { isolated: info.info_slave_data?.isolated ?? false } : {}),
    };
    st.links.set(link.name, link);
    for (const a of l.addr_info ?? []) {
      if (a.family === 'inet') st.addrs.add(`${l.ifname} ${a.local}/${a.prefixlen}`);
    }
  }
  for (const r of parseJsonLine<IpRouteJson>(routeLine)) {
    st.routes.add(formatRoute(r.dst, r.gateway, r.dev ?? '?'));
  }
  for (const n of parseJsonLine<IpNeighJson>(neighLine)) {
    if (n.lladdr !== undefined && (n.state ?? []).includes('PERMANENT')) st.neigh.add(`${n.dev} ${n.dst} ${n.lladdr}`);
  }
  for (const f of parseJsonLine<FdbJson>(fdbOut.trim().split('\n')[0])) {
    if (f.dst !== undefined && f.state === 'permanent') st.fdb.add(`${f.ifname} ${f.mac} ${f.dst}`);
  }
  return st;
}

export function formatRoute(dst: string, via: string | undefined, dev: string): string {
  return via !== undefined ? `${dst} via ${via} dev ${dev}` : `${dst} dev ${dev}`;
}

interface NftJson {
  nftables?: {
    table?: { family: string; name: string };
    rule?: { family: string; table: string; comment?: string };
  }[];
}

/** Tables of `nft -j list ruleset` with the comments of their rules (our rule keys). */
export function parseNftRuleset(out: string): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  if (out.trim() === '') return tables;
  const j = JSON.parse(out) as NftJson;
  for (const item of j.nftables ?? []) {
    if (item.table !== undefined) tables.set(`${item.table.family} ${item.table.name}`, new Set());
    if (item.rule !== undefined && item.rule.comment !== undefined) {
      tables.get(`${item.rule.family} ${item.rule.table}`)?.add(item.rule.comment);
    }
  }
  return tables;
}
