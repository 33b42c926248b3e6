/**
 * The network-scoped tables (like Docker's networkdb): which node joined which network, and
 * per network the entries of each table. Entries are ordered by (Lamport time, owner); deletes
 * stay as tombstones until reaped. The owner of an entry is authoritative about it: an older
 * copy of its own entry (e.g. from before a restart) makes it re-issue its current state with
 * a later Lamport time.
 *
 * An entry is visible while it is not deleted and its owner is an active member (alive or
 * suspect) that is still in the network. Visibility changes emit create/update/delete events,
 * so a dead node's entries are withdrawn from the views and return when it does.
 */
import type { NetworkEventMsg, NetworkRecord, TableEventMsg } from '../wire/messages.js';

export interface TableEntryView {
  readonly key: string;
  readonly value: Uint8Array;
  readonly owner: string;
  readonly lamport: number;
}

export interface TableChange {
  kind: 'table';
  action: 'create' | 'update' | 'delete';
  network: string;
  table: string;
  key: string;
  owner: string;
  value: Uint8Array;
}

interface Entry {
  table: string;
  key: string;
  owner: string;
  lamport: number;
  deleted: boolean;
  value: Uint8Array;
  /** Local time of the last change, for reaping tombstones. */
  changedAt: number;
}

const empty = new Uint8Array(0);
const compositeKey = (table: string, key: string): string => `${table}\u0000${key}`;

function newer(a: { lamport: number; owner: string }, b: { lamport: number; owner: string }): boolean {
  return a.lamport > b.lamport || (a.lamport === b.lamport && a.owner > b.owner);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class TableStore {
  private clock = 0;
  /** node -> network -> its latest join/leave record. */
  private readonly memberships = new Map<string, Map<string, { lamport: number; joined: boolean }>>();
  /** network -> composite key -> entry; only for networks this node has joined. */
  private readonly tables = new Map<string, Map<string, Entry>>();
  /** network -> the other nodes in it (an index over `memberships`). */
  private readonly nodesByNetwork = new Map<string, Set<string>>();

  constructor(
    private readonly self: string,
    private readonly isMemberActive: (node: string) => boolean,
    private readonly emit: (change: TableChange) => void,
  ) {}

  get lamport(): number {
    return this.clock;
  }

  private witness(lamport: number): void {
    if (lamport > this.clock) this.clock = lamport;
  }

  // ---- network membership ---------------------------------------------------------------

  myNetworks(): string[] {
    return [...this.tables.keys()];
  }

  inNetwork(network: string): boolean {
    return this.tables.has(network);
  }

  /** Nodes other than this one whose latest record says they are in `network`. */
  networkNodes(network: string): string[] {
    return [...(this.nodesByNetwork.get(network) ?? [])];
  }

  nodeInNetwork(node: string, network: string): boolean {
    return this.memberships.get(node)?.get(network)?.joined === true;
  }

  networksOf(node: string): string[] {
    return [...(this.memberships.get(node) ?? new Map<string, { joined: boolean }>()).entries()].filter(([, r]) => r.joined).map(([n]) => n);
  }

  networkRecords(): NetworkRecord[] {
    const out: NetworkRecord[] = [];
    for (const [node, nets] of this.memberships) {
      for (const [network, r] of nets) out.push({ node, network, lamport: r.lamport, joined: r.joined });
    }
    return out;
  }

  private setMembership(node: string, network: string, lamport: number, joined: boolean): void {
    let nets = this.memberships.get(node);
    if (nets === undefined) this.memberships.set(node, (nets = new Map()));
    nets.set(network, { lamport, joined });
    if (node === this.self) return;
    let nodes = this.nodesByNetwork.get(network);
    if (nodes === undefined) this.nodesByNetwork.set(network, (nodes = new Set()));
    if (joined) nodes.add(node);
    else nodes.delete(node);
  }

  /** Joins a network; returns the event to broadcast, or undefined if already in it. */
  joinNetwork(now: number, network: string): NetworkEventMsg | undefined {
    if (this.tables.has(network)) return undefined;
    this.tables.set(network, new Map());
    const lamport = ++this.clock;
    this.setMembership(this.self, network, lamport, true);
    void now;
    return { type: 'NetworkEvent', node: this.self, network, lamport, joined: true };
  }

  /** Leaves a network, dropping its tables (their visible entries emit deletes). */
  leaveNetwork(network: string): NetworkEventMsg | undefined {
    const entries = this.tables.get(network);
    if (entries === undefined) return undefined;
    for (const e of entries.values()) {
      if (this.visible(network, e)) this.emit({ kind: 'table', action: 'delete', network, table: e.table, key: e.key, owner: e.owner, value: e.value });
    }
    this.tables.delete(network);
    const lamport = ++this.clock;
    this.setMembership(this.self, network, lamport, false);
    return { type: 'NetworkEvent', node: this.self, network, lamport, joined: false };
  }

  /**
   * Applies a network event or record; returns what to (re)broadcast: the event itself if it
   * was news, this node's own re-issued record if it contradicted this node, else undefined.
   */
  applyNetworkEvent(m: NetworkRecord): NetworkEventMsg | undefined {
    this.witness(m.lamport);
    if (m.node === this.self) {
      const mine = this.memberships.get(this.self)?.get(m.network);
      const joined = this.tables.has(m.network);
      if (mine !== undefined && mine.lamport > m.lamport) return undefined;
      if (mine !== undefined && mine.lamport === m.lamport && mine.joined === m.joined) return undefined;
      const lamport = ++this.clock;
      this.setMembership(this.self, m.network, lamport, joined);
      return { type: 'NetworkEvent', node: this.self, network: m.network, lamport, joined };
    }
    const known = this.memberships.get(m.node)?.get(m.network);
    if (known !== undefined && known.lamport >= m.lamport) return undefined;
    this.reevaluateOwner(m.node, () => this.setMembership(m.node, m.network, m.lamport, m.joined));
    return { type: 'NetworkEvent', node: m.node, network: m.network, lamport: m.lamport, joined: m.joined };
  }

  // ---- entries ---------------------------------------------------------------------------

  private visible(network: string, e: Entry): boolean {
    if (e.deleted) return false;
    if (e.owner === this.self) return true;
    return this.isMemberActive(e.owner) && this.nodeInNetwork(e.owner, network);
  }

  /** Runs `change` and emits an event for each entry of `owner` whose visibility or value changed. */
  reevaluateOwner(owner: string, change: () => void = () => {}): void {
    const before: Array<[string, Entry, boolean]> = [];
    for (const [network, entries] of this.tables) {
      for (const e of entries.values()) if (e.owner === owner) before.push([network, e, this.visible(network, e)]);
    }
    change();
    for (const [network, e, was] of before) {
      const now = this.visible(network, e);
      if (was === now) continue;
      this.emit({ kind: 'table', action: now ? 'create' : 'delete', network, table: e.table, key: e.key, owner: e.owner, value: e.value });
    }
  }

  private store(now: number, network: string, next: Omit<Entry, 'changedAt'>): void {
    const entries = this.tables.get(network)!;
    const ck = compositeKey(next.table, next.key);
    const prev = entries.get(ck);
    const wasVisible = prev !== undefined && this.visible(network, prev);
    const entry: Entry = { ...next, changedAt: now };
    entries.set(ck, entry);
    const isVisible = this.visible(network, entry);
    const base = { kind: 'table' as const, network, table: entry.table, key: entry.key, owner: entry.owner, value: entry.value };
    if (!wasVisible && isVisible) this.emit({ ...base, action: 'create' });
    else if (wasVisible && !isVisible) this.emit({ ...base, action: 'delete', value: prev.value, owner: prev.owner });
    else if (wasVisible && isVisible && (!sameBytes(prev.value, entry.value) || prev.owner !== entry.owner)) this.emit({ ...base, action: 'update' });
  }

  private toMessage(network: string, e: Entry): TableEventMsg {
    return { type: 'TableEvent', network, table: e.table, key: e.key, owner: e.owner, lamport: e.lamport, deleted: e.deleted, value: e.value };
  }

  put(now: number, network: string, table: string, key: string, value: Uint8Array): TableEventMsg {
    const entry = { table, key, owner: this.self, lamport: ++this.clock, deleted: false, value };
    this.store(now, network, entry);
    return this.toMessage(network, { ...entry, changedAt: now });
  }

  /** Deletes an entry; undefined if there is no live entry under that key. */
  delete(now: number, network: string, table: string, key: string): TableEventMsg | undefined {
    const prev = this.tables.get(network)?.get(compositeKey(table, key));
    if (prev === undefined || prev.deleted) return undefined;
    const entry = { table, key, owner: this.self, lamport: ++this.clock, deleted: true, value: empty };
    this.store(now, network, entry);
    return this.toMessage(network, { ...entry, changedAt: now });
  }

  /**
   * Applies an entry from a peer. Returns what to broadcast: the entry itself if it was news,
   * this node's re-issued state if the entry was an outdated copy of its own, else undefined.
   * Entries of networks this node is not in are refused (returns 'not-member').
   */
  applyEntry(now: number, m: TableEventMsg): TableEventMsg | undefined | 'not-member' {
    const entries = this.tables.get(m.network);
    if (entries === undefined) return 'not-member';
    this.witness(m.lamport);
    const local = entries.get(compositeKey(m.table, m.key));
    if (m.owner === this.self) {
      if (local !== undefined && !newer(m, local)) return undefined;
      if (local !== undefined && local.owner === this.self && local.lamport === m.lamport) return undefined;
      // An outdated copy of this node's own entry: re-issue the current state (a tombstone if
      // this node no longer has it) with a later time, so it wins everywhere.
      const next =
        local !== undefined && local.owner === this.self
          ? { ...local, lamport: ++this.clock }
          : { table: m.table, key: m.key, owner: this.self, lamport: ++this.clock, deleted: true, value: empty };
      this.store(now, m.network, next);
      return this.toMessage(m.network, { ...next, changedAt: now });
    }
    if (local !== undefined && !newer(m, local)) return undefined;
    this.store(now, m.network, { table: m.table, key: m.key, owner: m.owner, lamport: m.lamport, deleted: m.deleted, value: m.value });
    return m;
  }

  /** Every entry and tombstone of a network, for a bulk sync. */
  syncEntries(network: string): TableEventMsg[] {
    const entries = this.tables.get(network);
    if (entries === undefined) return [];
    return [...entries.values()].map((e) => this.toMessage(network, e));
  }

  visibleEntries(network: string, table: string): TableEntryView[] {
    const entries = this.tables.get(network);
    if (entries === undefined) return [];
    const out: TableEntryView[] = [];
    for (const e of entries.values()) {
      if (e.table === table && this.visible(network, e)) out.push({ key: e.key, value: e.value, owner: e.owner, lamport: e.lamport });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Drops tombstones older than `tombstoneReapMs`, and everything of forgotten members. */
  reap(now: number, tombstoneReapMs: number, forgotten: ReadonlySet<string>): void {
    for (const entries of this.tables.values()) {
      for (const [ck, e] of entries) {
        if ((e.deleted && now - e.changedAt >= tombstoneReapMs) || forgotten.has(e.owner)) entries.delete(ck);
      }
    }
    for (const node of forgotten) {
      this.memberships.delete(node);
      for (const nodes of this.nodesByNetwork.values()) nodes.delete(node);
    }
  }
}
