import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { TsswarmError } from '../../errors/index.js';
import { batchErrors, runScript, shq, type ScriptUnit, type UnitResult } from './script-runner.js';
import { EntryHelpers } from './entry-helpers.js';
import type { EntryOp } from './netlink-helper.js';
import { parseNftRuleset, parseNsReadback } from './parse-readback.js';
import { stageOf } from './stages.js';
import {
  HOST_NS,
  SYSCTL_ABSENT,
  emptyNsState,
  type Kernel,
  type KernelOp,
  type KernelState,
  type NsName,
  type NsState,
  type ObserveScope,
  type ReadDepth,
  type OpResult,
} from './types.js';

export interface LinuxKernelOptions {
  /** The node's own directory of nsfs files (one per overlay or sandbox namespace). */
  readonly netnsDir: string;
  /** The host namespace's nsfs file; undefined when the daemon runs in it (production). */
  readonly hostNsPath?: string;
  /** Host-namespace sysctls to read back, e.g. net.ipv4.ip_forward. */
  readonly sysctls: readonly string[];
  /** Sysctls read back with a full read of each overlay namespace (absent files reported as such). */
  readonly overlaySysctls?: readonly string[];
  /**
   * Called after each stage of apply() has run, before the next: a failpoint for crash tests
   * (a test pauses here and kills the process). Unset in production.
   */
  readonly afterStage?: (stage: number) => Promise<void>;
  /**
   * The compiled netlink helper (netlink-helper.js) for overlay namespaces' entries, or false
   * to use iproute2 only. Default: the sibling .js file when it exists (a build, not a run
   * from TypeScript sources).
   */
  readonly netlinkHelper?: string | false;
}

function defaultHelper(): string | false {
  const p = fileURLToPath(new URL('./netlink-helper.js', import.meta.url));
  return existsSync(p) ? p : false;
}

/** Overlay namespaces: the ones whose neighbour and FDB entries change with remote endpoints. */
const entryNs = (ns: NsName) => ns.startsWith('ov-');

const READBACK = 'addr show\nroute show table main\nneigh show nud permanent\n';
/** `addr show` leaves out link aliases, which mark the gwbridge the dataplane created. */
const HOST_READBACK = `${READBACK}link show\n`;
const ENTRIES_READBACK = 'neigh show nud permanent\n';

/** nsfs files have this device number; a plain file left by a crash does not. */
let nsfsDev: number | undefined;
function nsfsDevice(): number {
  nsfsDev ??= statSync('/proc/self/ns/net').dev;
  return nsfsDev;
}

/** A unit of work and, for each of its batch lines (1-based), the op index it serves. */
interface PlannedUnit {
  unit: ScriptUnit;
  lineOps: number[];
}

/**
 * The real kernel: iproute2 (`ip -batch`, `bridge -batch`) entered into each namespace with
 * nsenter, `nft -f` for atomic nftables changes, unshare + bind mounts for namespaces. See
 * README.md for why iproute2 rather than the `netlink` package does this work.
 */
export class LinuxKernel implements Kernel {
  private readonly helpers: EntryHelpers | undefined;
  /** Inodes from the last listing, to match helpers with namespace instances. */
  private inodes = new Map<NsName, number>();

  constructor(private readonly opts: LinuxKernelOptions) {
    const helper = opts.netlinkHelper ?? defaultHelper();
    this.helpers = helper === false ? undefined : new EntryHelpers(helper);
  }

  /** Stops the netlink helpers (they also exit with this process). */
  close(): void {
    this.helpers?.close();
  }

  /** Whether neighbour/FDB reads and writes for this overlay namespace go over netlink now. */
  netlinkReady(ns: NsName): boolean {
    return this.helpers?.ready(join(this.opts.netnsDir, ns), this.inodes.get(ns) ?? -1) === true;
  }

  /** Starts helpers for overlay namespaces that lack one; they are used once ready. */
  private warmHelpers(namespaces: Map<NsName, number>): void {
    this.inodes = namespaces;
    if (this.helpers === undefined) return;
    for (const [ns, ino] of namespaces) if (entryNs(ns)) this.helpers.warm(join(this.opts.netnsDir, ns), ino);
  }

  /** The nsfs file of a namespace, or undefined for the host when the daemon runs in it. */
  nsPath(ns: NsName): string | undefined {
    return ns === HOST_NS ? this.opts.hostNsPath : join(this.opts.netnsDir, ns);
  }

  async listNamespaces(): Promise<Map<NsName, number>> {
    // Synchronous on purpose: a few hundred stat() calls take well under a millisecond, less
    // than queueing them on libuv's thread pool.
    const out = new Map<NsName, number>();
    let names: string[];
    try {
      names = readdirSync(this.opts.netnsDir);
    } catch {
      return out;
    }
    const dev = nsfsDevice();
    for (const n of names) {
      try {
        const s = statSync(join(this.opts.netnsDir, n));
        if (s.dev === dev) out.set(n, s.ino);
      } catch {
        // Removed meanwhile.
      }
    }
    return out;
  }

  async observe(scope: ObserveScope): Promise<KernelState> {
    const namespaces = await this.listNamespaces();
    const wanted: [NsName, ReadDepth][] = [
      [HOST_NS, scope.depth(HOST_NS, 0)],
      ...[...namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, ino]): [NsName, ReadDepth] => [n, scope.depth(n, ino)]),
    ];
    this.warmHelpers(namespaces);
    const viaHelper = wanted.filter(
      ([ns, d]) => d === 'entries' && this.helpers?.ready(join(this.opts.netnsDir, ns), namespaces.get(ns) ?? -1) === true,
    );
    const helperReads = Promise.all(
      viaHelper.map(async ([ns]) => [ns, await (this.helpers as EntryHelpers).read(join(this.opts.netnsDir, ns))] as const),
    );
    const reads = wanted.filter(([ns, d]) => d !== 'none' && !viaHelper.some(([h]) => h === ns));
    const units: ScriptUnit[] = [];
    /** Per full read: the index of its sysctl unit and of its nft unit, when it has them. */
    const sysctlUnits = new Map<NsName, { unit: number; keys: readonly string[] }>();
    const nftUnits = new Map<NsName, number>();
    for (const [ns, depth] of reads) {
      if (depth !== 'full' || ns === HOST_NS) continue;
      const extras = scope.extras?.(ns, namespaces.get(ns) ?? 0) ?? {};
      const keys = [...(entryNs(ns) ? (this.opts.overlaySysctls ?? []) : []), ...(extras.sysctls ?? [])];
      if (keys.length > 0) {
        // grep -sH prints FILE:VALUE for each file that exists, and nothing for one that does not.
        sysctlUnits.set(ns, { unit: units.length, keys });
        units.push({ nsPath: this.nsPath(ns), argv: ['grep', '-sH', '.', ...keys.map(sysctlFile)], capture: true });
      }
      if (extras.nft === true) {
        nftUnits.set(ns, units.length);
        units.push({ nsPath: this.nsPath(ns), argv: ['nft', '-j', 'list', 'ruleset'], capture: true });
      }
    }
    const base = units.length;
    for (const [ns, depth] of reads) {
      const nsPath = this.nsPath(ns);
      const file = depth === 'entries' ? ENTRIES_READBACK : ns === HOST_NS ? HOST_READBACK : READBACK;
      units.push({ nsPath, argv: ['ip', '-j', '-d', '-batch', '@FILE'], file, capture: true });
      // Sandboxes hold no FDB entries that matter: they skip this spawn.
      units.push(ns.startsWith('sb-') || ns === HOST_NS ? { raw: 'true' } : { nsPath, argv: ['bridge', '-j', 'fdb', 'show'], capture: true });
    }
    const hostPath = this.nsPath(HOST_NS);
    const hostFull = wanted[0]?.[1] === 'full';
    const sysctlFiles = this.opts.sysctls.map(sysctlFile);
    if (hostFull) {
      units.push({ nsPath: hostPath, argv: ['nft', '-j', 'list', 'ruleset'], capture: true });
      // grep -sH, as in other namespaces: a file that does not exist (yet: the gwbridge's) is absent.
      if (sysctlFiles.length > 0) units.push({ nsPath: hostPath, argv: ['grep', '-sH', '.', ...sysctlFiles], capture: true });
    }
    const res = await runScript(units);
    const nsStates = new Map<NsName, NsState>();
    const read = new Map<NsName, ReadDepth>();
    reads.forEach(([ns, depth], i) => {
      const ip = res[base + 2 * i] as UnitResult;
      const fdb = res[base + 2 * i + 1] as UnitResult;
      // A namespace removed between listing and reading is simply absent.
      if (ip.code !== 0) {
        if (ns === HOST_NS) throw readbackError(ns, ip);
        return;
      }
      const fdbOut = fdb.code === 0 ? fdb.stdout : '';
      // An entries read prints only the neighbour line: pad the addr and route lines.
      let st = parseNsReadback(depth === 'entries' ? `[]\n[]\n${ip.stdout}` : ip.stdout, fdbOut);
      const sys = sysctlUnits.get(ns);
      if (sys !== undefined) st = { ...st, sysctls: parseSysctlLines((res[sys.unit] as UnitResult).stdout, sys.keys) };
      const nftAt = ns === HOST_NS ? (hostFull ? base + 2 * reads.length : undefined) : nftUnits.get(ns);
      const nft = nftAt !== undefined ? nftTables(res[nftAt] as UnitResult) : undefined;
      if (nft !== undefined) st = { ...st, nft };
      nsStates.set(ns, st);
      read.set(ns, depth);
    });
    for (const [ns, e] of await helperReads) {
      nsStates.set(ns, { ...emptyNsState(), neigh: new Set(e.neigh), fdb: new Set(e.fdb) });
      read.set(ns, 'entries');
    }
    const sysctls =
      hostFull && sysctlFiles.length > 0 ? parseSysctlLines((res[base + 2 * reads.length + 1] as UnitResult).stdout, this.opts.sysctls) : new Map<string, string>();
    return { namespaces, ns: nsStates, read, sysctls };
  }

  async apply(ops: readonly KernelOp[]): Promise<OpResult[]> {
    const fast = await this.applyViaHelpers(ops);
    if (fast !== undefined) return fast;
    const errors = new Map<number, string>();
    // Consecutive ops of one stage run as one script; stages run in order.
    let start = 0;
    while (start < ops.length) {
      const stage = stageOf(ops[start] as KernelOp);
      let end = start;
      while (end < ops.length && stageOf(ops[end] as KernelOp) === stage) end++;
      const planned = this.planUnits(ops, start, end);
      const results = await runScript(planned.map((p) => p.unit));
      planned.forEach((p, u) => collectErrors(p, results[u] as UnitResult, errors));
      start = end;
      // New overlay namespaces get their helper while the later stages run; once links are
      // made, helpers refresh their device cache (a VXLAN device is new or replaced).
      if (stage === 0) this.warmHelpers(await this.listNamespaces());
      if (stage === 1) for (const ns of this.inodes.keys()) if (entryNs(ns)) void this.helpers?.prime(join(this.opts.netnsDir, ns), true);
      if (this.opts.afterStage !== undefined) await this.opts.afterStage(stage);
    }
    // Entries made by iproute2 reach the helpers' mirrors as notifications: an apply ends when
    // the helpers have taken them over, so their cost is counted here, where it arises, and a
    // later read carries only what changed after this apply.
    await Promise.all([...this.inodes.keys()].filter(entryNs).map((ns) => this.helpers?.prime(join(this.opts.netnsDir, ns), false)));
    return ops.map((op, i) => {
      const error = errors.get(i);
      return error === undefined ? { op } : { op, error };
    });
  }

  /**
   * Neighbour and FDB changes in overlay namespaces whose helpers are ready go over netlink,
   * all in flight at once; anything else (or a missing helper) returns undefined.
   */
  private async applyViaHelpers(ops: readonly KernelOp[]): Promise<OpResult[] | undefined> {
    const h = this.helpers;
    if (h === undefined || ops.length === 0) return undefined;
    const byNs = new Map<string, { idx: number[]; ops: EntryOp[] }>();
    for (const [i, op] of ops.entries()) {
      if (op.op !== 'neigh-add' && op.op !== 'neigh-del' && op.op !== 'fdb-add' && op.op !== 'fdb-del') return undefined;
      const path = join(this.opts.netnsDir, op.ns);
      if (!entryNs(op.ns) || !h.ready(path, this.inodes.get(op.ns) ?? -1)) return undefined;
      const g = byNs.get(path) ?? { idx: [], ops: [] };
      g.idx.push(i);
      if (op.op === 'neigh-add' || op.op === 'neigh-del') g.ops.push({ op: op.op, dev: op.dev, ip: op.ip, mac: op.mac });
      else if (op.op === 'fdb-add' || op.op === 'fdb-del') g.ops.push({ op: op.op, dev: op.dev, mac: op.mac, dst: op.dst });
      byNs.set(path, g);
    }
    const errors = new Map<number, string>();
    await Promise.all(
      [...byNs].map(async ([path, g]) => {
        const res = await h.apply(path, g.ops).catch((e: unknown) => g.ops.map(() => (e instanceof Error ? e.message : String(e))));
        res.forEach((err, j) => {
          if (err !== null) errors.set(g.idx[j] as number, err);
        });
      }),
    );
    return ops.map((op, i) => (errors.has(i) ? { op, error: errors.get(i) as string } : { op }));
  }

  private planUnits(ops: readonly KernelOp[], start: number, end: number): PlannedUnit[] {
    const units: PlannedUnit[] = [];
    let makeDir = false;
    // Batches by (executing namespace, tool), in first-use order.
    const batches = new Map<string, { nsPath: string | undefined; tool: 'ip' | 'bridge'; lines: string[]; lineOps: number[] }>();
    const batch = (execNs: NsName, tool: 'ip' | 'bridge') => {
      const key = `${tool} ${execNs}`;
      let b = batches.get(key);
      if (b === undefined) {
        b = { nsPath: this.nsPath(execNs), tool, lines: [], lineOps: [] };
        batches.set(key, b);
      }
      return b;
    };
    const push = (execNs: NsName, tool: 'ip' | 'bridge', index: number, ...lines: string[]) => {
      const b = batch(execNs, tool);
      for (const l of lines) {
        b.lines.push(l);
        b.lineOps.push(index);
      }
    };
    const nsArg = (ns: NsName): string => {
      const p = this.nsPath(ns);
      return ns === HOST_NS || p === undefined ? '' : ` netns ${p}`;
    };
    for (let i = start; i < end; i++) {
      const op = ops[i] as KernelOp;
      switch (op.op) {
        case 'netns-add': {
          // The dir is made once below; ": >" creates the mount point without an exec.
          const f = shq(join(this.opts.netnsDir, op.ns));
          // Adopting binds the existing namespace's file, as `ip netns attach` does.
          const make = op.from !== undefined ? `mount --bind ${shq(op.from)} ${f}` : `unshare --net=${f} true`;
          units.push({ unit: { raw: `: > ${f} && ${make}` }, lineOps: [i] });
          makeDir = true;
          break;
        }
        case 'netns-del': {
          const f = shq(join(this.opts.netnsDir, op.ns));
          units.push({ unit: { raw: `umount ${f} 2>/dev/null; rm -f ${f}` }, lineOps: [i] });
          break;
        }
        case 'bridge-add':
          // `ip link add` ignores "alias"; it is set by a second line on the new link.
          push(HOST_NS, 'ip', i, `link add ${op.name}${nsArg(op.ns)} mtu ${op.mtu} type bridge`);
          if (op.alias !== undefined) {
            if (op.ns !== HOST_NS) throw new TsswarmError('INTERNAL', { detail: 'bridge alias only in the host namespace' });
            push(HOST_NS, 'ip', i, `link set ${op.name} alias ${op.alias}`);
          }
          break;
        case 'vxlan-add': {
          // Created in the host namespace so that its UDP socket lives there, then moved.
          // No outer UDP checksum, as Docker creates it: the inner packet carries its own.
          const lines = [
            `link add ${op.name} mtu ${op.mtu} type vxlan id ${op.vni} dstport ${op.port} local ${op.local} nolearning proxy noudpcsum`,
          ];
          if (op.ns !== HOST_NS) lines.push(`link set ${op.name}${nsArg(op.ns)}`);
          push(HOST_NS, 'ip', i, ...lines);
          break;
        }
        case 'veth-add':
          push(
            HOST_NS,
            'ip',
            i,
            `link add ${op.name}${nsArg(op.ns)} mtu ${op.mtu} type veth peer name ${op.peerName}${nsArg(op.peerNs)}` +
              `${op.peerMac !== undefined ? ` address ${op.peerMac}` : ''} mtu ${op.mtu}`,
          );
          break;
        case 'link-set': {
          const parts: string[] = [];
          if (op.master !== undefined) parts.push(`master ${op.master}`);
          if (op.mtu !== undefined) parts.push(`mtu ${op.mtu}`);
          if (op.up !== undefined) parts.push(op.up ? 'up' : 'down');
          const lines = parts.length > 0 ? [`link set ${op.name} ${parts.join(' ')}`] : [];
          if (op.isolated !== undefined) lines.push(`link set ${op.name} type bridge_slave isolated ${op.isolated ? 'on' : 'off'}`);
          push(op.ns, 'ip', i, ...lines);
          break;
        }
        case 'link-del':
          push(op.ns, 'ip', i, `link del ${op.name}`);
          break;
        case 'addr-add':
        case 'addr-del':
          push(op.ns, 'ip', i, `addr ${op.op === 'addr-add' ? 'add' : 'del'} ${op.cidr} dev ${op.dev}`);
          break;
        case 'route-add':
        case 'route-del':
          push(
            op.ns,
            'ip',
            i,
            `route ${op.op === 'route-add' ? 'replace' : 'del'} ${op.dst}${op.via !== undefined ? ` via ${op.via}` : ''} dev ${op.dev}`,
          );
          break;
        case 'neigh-add':
          push(op.ns, 'ip', i, `neigh replace ${op.ip} lladdr ${op.mac} dev ${op.dev} nud permanent`);
          break;
        case 'neigh-del':
          push(op.ns, 'ip', i, `neigh del ${op.ip} dev ${op.dev}`);
          break;
        case 'fdb-add':
          push(op.ns, 'bridge', i, `fdb replace ${op.mac} dev ${op.dev} dst ${op.dst} self permanent`);
          break;
        case 'fdb-del':
          push(op.ns, 'bridge', i, `fdb del ${op.mac} dev ${op.dev} dst ${op.dst} self`);
          break;
        case 'nft-table':
          units.push({ unit: { nsPath: this.nsPath(op.ns), argv: ['nft', '-f', '@FILE'], file: nftTableScript(op) }, lineOps: [i] });
          break;
        case 'nft-table-del':
          units.push({
            unit: { nsPath: this.nsPath(op.ns), argv: ['nft', 'delete', 'table', op.family, op.table] },
            lineOps: [i],
          });
          break;
        case 'sysctl': {
          const f = shq(sysctlFile(op.key));
          const write = `echo ${shq(op.value)} > ${f}`;
          units.push({
            unit: { nsPath: this.nsPath(op.ns), argv: ['sh', '-c', op.ifPresent === true ? `[ ! -e ${f} ] || ${write}` : write] },
            lineOps: [i],
          });
          break;
        }
      }
    }
    if (makeDir) mkdirSync(this.opts.netnsDir, { recursive: true });
    for (const b of batches.values()) {
      units.push({
        unit: { nsPath: b.nsPath, argv: [b.tool, '-force', '-batch', '@FILE'], file: b.lines.join('\n') + '\n' },
        lineOps: b.lineOps,
      });
    }
    return units;
  }
}

function sysctlFile(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/** `grep -sH . FILES` output -> value by key; keys whose file printed nothing are SYSCTL_ABSENT. */
export function parseSysctlLines(out: string, keys: readonly string[]): Map<string, string> {
  const byFile = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) byFile.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return new Map(keys.map((k) => [k, byFile.get(sysctlFile(k)) ?? SYSCTL_ABSENT]));
}

/** The nft script that replaces a table atomically: declare, delete, define, in one transaction. */
export function nftTableScript(op: Extract<KernelOp, { op: 'nft-table' }>): string {
  const lines = [`table ${op.family} ${op.table} {}`, `delete table ${op.family} ${op.table}`, `table ${op.family} ${op.table} {`];
  for (const c of op.chains) {
    lines.push(`  chain ${c.name} {`, `    ${c.hook}`);
    for (const r of c.rules) lines.push(`    ${r.rule} comment ${JSON.stringify(r.key)}`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function collectErrors(p: PlannedUnit, res: UnitResult, errors: Map<number, string>): void {
  if (res.code === 0) return;
  const isBatch = p.unit.argv?.includes('-batch') === true;
  const perLine = isBatch ? batchErrors(res.stderr) : new Map<number, string>();
  if (perLine.size === 0) {
    // The whole unit failed (e.g. its namespace is gone): every op in it failed.
    const msg = res.stderr.trim() || `exit status ${res.code}`;
    for (const i of new Set(p.lineOps)) if (!errors.has(i)) errors.set(i, msg);
    return;
  }
  for (const [line, msg] of perLine) {
    const i = p.lineOps[line - 1];
    if (i !== undefined && !errors.has(i)) errors.set(i, msg);
  }
}

/**
 * The tables of an `nft -j list ruleset` unit; undefined when it failed: "not read", so the
 * planner rewrites the tables it wants there and deletes none.
 */
function nftTables(res: UnitResult): Map<string, Set<string>> | undefined {
  return res.code === 0 ? parseNftRuleset(res.stdout) : undefined;
}

function readbackError(ns: NsName, res: UnitResult): Error {
  return new TsswarmError('KERNEL_OP_FAILED', {
    op: 'read back',
    object: `namespace ${ns}`,
    reason: res.stderr.trim() || `exit status ${res.code}`,
  });
}
