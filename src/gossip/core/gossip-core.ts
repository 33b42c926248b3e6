/**
 * The pure gossip core: SWIM membership with Lifeguard, plus the network tables. It never
 * touches sockets, timers or crypto: the driver feeds it (now, packet), (now, stream) and
 * (now) ticks, wakes it at nextWakeup(), and sends what drain() returns. Time is a number of
 * milliseconds on any monotonic clock; randomness comes from the injected Rng.
 */
import type { GossipConfig } from '../config.js';
import type { Rng } from '../../util/rng.js';
import { decodePacket, decodeStreamFrame, encodeMessage, encodePacket, encodeStreamFrame } from '../wire/codec.js';
import { COMPOUND_ENTRY_OVERHEAD, MAX_COMPOUND_MESSAGES, SEAL_OVERHEAD, WIRE_VERSION } from '../wire/limits.js';
import type { GossipMessage, MemberRecord, MemberState, PushPullMsg, TableEventMsg } from '../wire/messages.js';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { pushPullInterval, retransmitLimit, suspicionMinTimeout } from './formulas.js';
import { Prober, type ProbeHost } from './prober.js';
import { Suspicion } from './suspicion.js';
import { isActiveState, MemberList, type Member } from './member-list.js';
import { TableStore, type TableEntryView } from './table-store.js';
import type { CoreCounters, CoreOutput, GossipEvent, MemberView, OutPacket, OutStream } from './types.js';

type PendingStream =
  | { kind: 'push-pull'; to: string; join: boolean }
  | { kind: 'bulk-sync'; network: string }
  | { kind: 'ping'; seq: number }
  | { kind: 'verify'; node: string; incarnation: number }
  | { kind: 'notify' };

export interface GossipCoreOptions {
  config: GossipConfig;
  nodeId: string;
  /** host:port others reach this node at. */
  advertiseAddr: string;
  rng: Rng;
  now: number;
}

const active = isActiveState;

export class GossipCore {
  private readonly cfg: GossipConfig;
  private readonly rng: Rng;
  readonly id: string;
  readonly addr: string;
  private incarnation = 0;
  private readonly members: MemberList;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly awareness: Awareness;
  private readonly memberQueue = new BroadcastQueue();
  private readonly tableQueues = new Map<string, BroadcastQueue>();
  private readonly tables: TableStore;
  private readonly prober: Prober;
  private seq = 0;
  private streamId = 0;
  private readonly pendingStreams = new Map<number, PendingStream>();
  private join: { seeds: string[]; waiting: Set<number>; contacted: number } | undefined;
  private seeds: string[] = [];
  private readonly revived = new Map<string, Set<string>>();
  /**
   * Networks joined whose tables no member has answered a bulk sync for yet: a node that joins
   * before it knows any member of the network (a restarted node, a sole manager) pulls them as
   * soon as it learns of one, however it learns of it.
   */
  private readonly unsyncedNetworks = new Set<string>();
  /** address -> when a stranger there was last pushed-pulled (see syncStranger). */
  private readonly strangerSyncs = new Map<string, number>();
  private leaving = false;
  private nextGossipAt: number;
  private nextPushPullAt: number;
  private nextBulkSyncAt: number;
  private nextReconnectAt: number;
  private nextRejoinAt: number;
  private nextReapAt: number;
  private out: CoreOutput = { packets: [], streams: [], events: [] };
  readonly counters: CoreCounters = { malformed: 0, misdirectedPings: 0, foreignTableEvents: 0, probes: 0, failedProbes: 0, refutations: 0 };

  constructor(opts: GossipCoreOptions) {
    this.cfg = opts.config;
    this.rng = opts.rng;
    this.id = opts.nodeId;
    this.addr = opts.advertiseAddr;
    this.awareness = new Awareness(this.cfg.awarenessMaxMultiplier);
    this.members = new MemberList(this.id, this.rng);
    this.members.add({ id: this.id, addr: this.addr, incarnation: 0, state: 'alive', stateChangedAt: opts.now });
    this.tables = new TableStore(this.id, (n) => this.members.isActive(n), (c) => this.out.events.push(c));
    // Staggered first deadlines, so nodes started together do not act in lockstep.
    const jitter = (ms: number): number => opts.now + Math.floor(this.rng.float() * ms);
    this.prober = new Prober(this.cfg, this.probeHost(), jitter(this.cfg.probeIntervalMs));
    this.nextGossipAt = jitter(this.cfg.gossipIntervalMs);
    this.nextPushPullAt = jitter(this.cfg.pushPullIntervalMs);
    this.nextBulkSyncAt = jitter(this.cfg.bulkSyncIntervalMs);
    this.nextReconnectAt = jitter(this.cfg.reconnectIntervalMs);
    this.nextRejoinAt = opts.now + this.cfg.rejoinIntervalMs;
    this.nextReapAt = jitter(this.cfg.reapIntervalMs);
  }

  // ---- queries ---------------------------------------------------------------------------

  memberList(): MemberView[] {
    return [...this.members.values()].map((m) => this.view(m)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  member(id: string): MemberView | undefined {
    const m = this.members.get(id);
    return m === undefined ? undefined : this.view(m);
  }

  entries(network: string, table: string): TableEntryView[] {
    return this.tables.visibleEntries(network, table);
  }

  networks(): string[] {
    return this.tables.myNetworks();
  }

  /** Every stored entry of a network, tombstones and hidden ones included (diagnostics, tests). */
  storedEntries(network: string): TableEventMsg[] {
    return this.tables.syncEntries(network);
  }

  inNetwork(network: string): boolean {
    return this.tables.inNetwork(network);
  }

  /**
   * The active members (alive or suspect) whose latest record says they joined `network`,
   * this node included while it is in it; sorted by ID. Read-only.
   */
  networkMembers(network: string): MemberView[] {
    const ids = this.tables.networkNodes(network);
    if (this.tables.inNetwork(network)) ids.push(this.id);
    return ids
      .map((id) => this.members.get(id))
      .filter((m): m is Member => m !== undefined && active(m.state))
      .map((m) => this.view(m))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get healthScore(): number {
    return this.awareness.healthScore;
  }

  /** The earliest time at which tick() has something to do. */
  nextWakeup(): number {
    let t = Math.min(this.prober.nextWakeup(), this.nextGossipAt, this.nextPushPullAt, this.nextBulkSyncAt, this.nextReconnectAt, this.nextRejoinAt, this.nextReapAt);
    for (const s of this.suspicions.values()) t = Math.min(t, s.deadline);
    return t;
  }

  /**
   * Forgets every pending broadcast. Only for simulations that build an already-converged
   * cluster by handing each core the full state (see SimCluster.formConverged).
   */
  discardPendingBroadcasts(): void {
    this.memberQueue.clear();
    for (const q of this.tableQueues.values()) q.clear();
    this.unsyncedNetworks.clear();
  }

  /** Everything produced since the last drain. */
  drain(): CoreOutput {
    const out = this.out;
    this.out = { packets: [], streams: [], events: [] };
    return out;
  }

  // ---- commands --------------------------------------------------------------------------

  /** Push-pulls with every seed (host:port); a 'join' event reports how many answered. */
  joinSeeds(now: number, seeds: readonly string[]): void {
    void now;
    const targets = [...new Set(seeds)].filter((s) => s !== this.addr);
    for (const s of targets) if (!this.seeds.includes(s)) this.seeds.push(s);
    if (targets.length === 0) {
      this.out.events.push({ kind: 'join', seeds: [], contacted: 0 });
      return;
    }
    const waiting = new Set<number>();
    for (const s of targets) waiting.add(this.startPushPull(s, true));
    this.join = { seeds: targets, waiting, contacted: 0 };
  }

  /** Announces a graceful leave; the driver keeps sending for a few gossip rounds, then stops. */
  leave(now: number): void {
    if (this.leaving) return;
    this.leaving = true;
    const self = this.members.get(this.id)!;
    self.state = 'left';
    self.stateChangedAt = now;
    this.members.changed();
    const msg: GossipMessage = { type: 'Dead', node: this.id, incarnation: this.incarnation, from: this.id };
    this.broadcastMember(this.id, msg);
    const targets = this.members.random(this.cfg.gossipNodes, (m) => active(m.state));
    for (const t of targets) this.sendPacket(t.addr, [encodeMessage(msg)]);
  }

  joinNetwork(now: number, network: string): void {
    const ev = this.tables.joinNetwork(now, network);
    if (ev === undefined) return;
    this.broadcastMember(`net:${this.id}:${network}`, ev);
    // Pull the network's tables from a few of its members: any one has them all once the
    // network has converged, and more than one covers a member that is itself behind. With no
    // member known yet, the gossip rounds retry until one answers (pullUnsyncedNetworks).
    this.unsyncedNetworks.add(network);
    this.bulkSyncSome(network, this.cfg.gossipNodes);
  }

  leaveNetwork(now: number, network: string): void {
    void now;
    const ev = this.tables.leaveNetwork(network);
    if (ev === undefined) return;
    this.tableQueues.delete(network);
    this.unsyncedNetworks.delete(network);
    this.broadcastMember(`net:${this.id}:${network}`, ev);
  }

  put(now: number, network: string, table: string, key: string, value: Uint8Array): void {
    this.broadcastEntry(this.tables.put(now, network, table, key, value));
  }

  delete(now: number, network: string, table: string, key: string): boolean {
    const m = this.tables.delete(now, network, table, key);
    if (m === undefined) return false;
    this.broadcastEntry(m);
    return true;
  }

  // ---- inputs ----------------------------------------------------------------------------

  handlePacket(now: number, from: string, payload: Uint8Array): void {
    let msgs: GossipMessage[];
    try {
      msgs = decodePacket(payload);
    } catch {
      this.counters.malformed++;
      return;
    }
    void from;
    for (const m of msgs) this.handleMessage(now, m);
  }

  /** Serves a TCP request; returns the reply frame, or undefined to close without one. */
  handleStream(now: number, from: string, payload: Uint8Array): Uint8Array | undefined {
    void from;
    let m: GossipMessage;
    try {
      m = decodeStreamFrame(payload);
    } catch {
      this.counters.malformed++;
      return undefined;
    }
    switch (m.type) {
      case 'PushPull':
        if (m.reply) return undefined;
        this.mergeState(now, m);
        return encodeStreamFrame(this.localState(true, m.join));
      case 'BulkSync':
        if (m.reply || !this.tables.inNetwork(m.network)) return undefined;
        {
          const reply = encodeStreamFrame({ type: 'BulkSync', reply: true, network: m.network, from: this.id, entries: this.tables.syncEntries(m.network) });
          this.mergeEntries(now, m.entries, false);
          return reply;
        }
      case 'Suspect':
        // A last-chance check (see verifySuspect): answer with the refutation itself.
        this.handleMessage(now, m);
        return m.node === this.id && !this.leaving
          ? encodeStreamFrame({ type: 'Alive', node: this.id, addr: this.addr, incarnation: this.incarnation })
          : undefined;
      case 'StreamPing':
        if (m.target !== this.id) {
          this.counters.misdirectedPings++;
          return encodeStreamFrame({ type: 'Nack', seq: m.seq });
        }
        return encodeStreamFrame({ type: 'Ack', seq: m.seq });
      default:
        // Anything a packet may carry is also accepted over a stream (large broadcasts).
        this.handleMessage(now, m);
        return undefined;
    }
  }

  handleStreamReply(now: number, id: number, payload: Uint8Array): void {
    const pending = this.pendingStreams.get(id);
    if (pending === undefined) return;
    this.pendingStreams.delete(id);
    let m: GossipMessage;
    try {
      m = decodeStreamFrame(payload);
    } catch {
      this.counters.malformed++;
      this.streamFailed(now, pending, id);
      return;
    }
    if (pending.kind === 'push-pull' && m.type === 'PushPull' && m.reply) {
      const wasDead = this.members.get(m.from)?.state;
      this.mergeState(now, m);
      if (this.join?.waiting.delete(id) === true) {
        this.join.contacted++;
        this.finishJoinIfDone();
      }
      if (pending.join || wasDead === 'dead' || wasDead === undefined) this.syncNetworksWith(m.from);
    } else if (pending.kind === 'bulk-sync' && m.type === 'BulkSync' && m.reply && m.network === pending.network) {
      this.mergeEntries(now, m.entries, false);
      this.unsyncedNetworks.delete(m.network);
    } else if (pending.kind === 'ping' && m.type === 'Ack') {
      this.prober.ackReceived(m.seq);
    } else if (pending.kind === 'verify' && m.type === 'Alive' && m.node === pending.node) {
      this.handleMessage(now, m);
    } else {
      this.streamFailed(now, pending, id);
    }
  }

  handleStreamFailure(now: number, id: number): void {
    const pending = this.pendingStreams.get(id);
    if (pending === undefined) return;
    this.pendingStreams.delete(id);
    this.streamFailed(now, pending, id);
  }

  private streamFailed(now: number, pending: PendingStream, id: number): void {
    if (pending.kind === 'push-pull' && this.join?.waiting.delete(id) === true) this.finishJoinIfDone();
    if (pending.kind === 'verify') {
      const s = this.suspicions.get(pending.node);
      const m = this.members.get(pending.node);
      if (s !== undefined && s.verifying && m?.state === 'suspect' && m.incarnation === pending.incarnation) {
        this.suspicions.delete(pending.node);
        this.deadNode(now, pending.node, pending.incarnation, this.id);
      }
    }
  }

  private finishJoinIfDone(): void {
    if (this.join === undefined || this.join.waiting.size > 0) return;
    this.out.events.push({ kind: 'join', seeds: this.join.seeds, contacted: this.join.contacted });
    this.join = undefined;
  }

  /** Runs every timer that is due. */
  tick(now: number): void {
    this.prober.tick(now, this.leaving);
    for (const [node, s] of this.suspicions) {
      if (now < s.deadline) continue;
      const m = this.members.get(node);
      if (m === undefined || m.state !== 'suspect' || m.incarnation !== s.incarnation) {
        this.suspicions.delete(node);
      } else if (!s.verifying) {
        this.verifySuspect(now, m, s);
      } else {
        this.suspicions.delete(node);
        this.deadNode(now, node, s.incarnation, this.id);
      }
    }
    if (now >= this.nextGossipAt) {
      this.pullUnsyncedNetworks();
      this.gossip(now);
      this.nextGossipAt = now + this.cfg.gossipIntervalMs;
    }
    if (now >= this.nextPushPullAt) {
      const peer = this.members.random(1, (m) => m.state === 'alive')[0];
      if (peer !== undefined && !this.leaving) this.startPushPull(peer.addr, false);
      this.nextPushPullAt = now + pushPullInterval(this.cfg.pushPullIntervalMs, this.members.countActive());
    }
    if (now >= this.nextBulkSyncAt) {
      for (const network of this.tables.myNetworks()) this.bulkSyncSome(network, 1);
      this.nextBulkSyncAt = now + this.cfg.bulkSyncIntervalMs;
    }
    this.syncRevived();
    if (now >= this.nextReconnectAt) {
      const dead = this.members.random(1, (m) => m.state === 'dead')[0];
      if (dead !== undefined && !this.leaving) this.startPushPull(dead.addr, false);
      this.nextReconnectAt = now + this.cfg.reconnectIntervalMs;
    }
    if (now >= this.nextRejoinAt) {
      this.rejoinSeeds();
      this.nextRejoinAt = now + this.cfg.rejoinIntervalMs;
    }
    if (now >= this.nextReapAt) {
      this.reap(now);
      this.nextReapAt = now + this.cfg.reapIntervalMs;
    }
  }

  // ---- message handling ------------------------------------------------------------------

  private handleMessage(now: number, m: GossipMessage): void {
    switch (m.type) {
      case 'Ping':
        if (m.target !== this.id) {
          this.counters.misdirectedPings++;
          return;
        }
        this.sendWithPiggyback(m.sourceAddr, encodeMessage({ type: 'Ack', seq: m.seq }));
        this.syncStranger(now, m.source, m.sourceAddr);
        return;
      case 'IndirectPing':
        this.prober.relay(now, m);
        this.syncStranger(now, m.source, m.sourceAddr);
        return;
      case 'Ack':
        this.prober.onAck(m.seq);
        return;
      case 'Nack':
        this.prober.onNack(m.seq);
        return;
      case 'Alive':
        this.aliveNode(now, m.node, m.addr, m.incarnation);
        return;
      case 'Suspect':
        this.suspectNode(now, m.node, m.incarnation, m.from, 0);
        return;
      case 'Dead':
        this.deadNode(now, m.node, m.incarnation, m.from);
        return;
      case 'NetworkEvent': {
        const rebroadcast = this.tables.applyNetworkEvent(m);
        if (rebroadcast !== undefined) this.broadcastMember(`net:${rebroadcast.node}:${rebroadcast.network}`, rebroadcast);
        return;
      }
      case 'TableEvent':
        this.mergeEntries(now, [m], true);
        return;
      default:
        // Stream-only messages arriving in a packet are ignored.
        this.counters.malformed++;
    }
  }

  private mergeEntries(now: number, entries: readonly TableEventMsg[], rebroadcast: boolean): void {
    for (const e of entries) {
      const r = this.tables.applyEntry(now, e);
      if (r === 'not-member') {
        this.counters.foreignTableEvents++;
        continue;
      }
      // Re-issued own entries always go out; news learned by gossip keeps spreading.
      if (r !== undefined && (rebroadcast || r !== e)) this.broadcastEntry(r);
    }
  }

  // ---- SWIM state transitions -------------------------------------------------------------

  private aliveNode(now: number, node: string, addr: string, incarnation: number): void {
    if (node === this.id) {
      if (incarnation > this.incarnation && !this.leaving) this.refute(incarnation, undefined);
      return;
    }
    const m = this.members.get(node);
    if (m === undefined) {
      const added: Member = { id: node, addr, incarnation, state: 'alive', stateChangedAt: now };
      this.members.add(added);
      this.broadcastMember(node, { type: 'Alive', node, addr, incarnation });
      this.memberChanged(added, undefined);
      return;
    }
    if (incarnation <= m.incarnation) return;
    const before = m.state;
    m.incarnation = incarnation;
    m.addr = addr;
    this.suspicions.delete(node);
    if (m.state !== 'alive') {
      m.state = 'alive';
      m.stateChangedAt = now;
    }
    this.broadcastMember(node, { type: 'Alive', node, addr, incarnation });
    this.memberChanged(m, before);
    if (before === 'dead' || before === 'left') this.noteRevived(node);
  }

  private suspectNode(now: number, node: string, incarnation: number, from: string, confirmations: number): void {
    const m = this.members.get(node);
    if (m === undefined || incarnation < m.incarnation) return;
    if (node === this.id) {
      if (!this.leaving) this.refute(incarnation, from);
      return;
    }
    if (m.state === 'suspect') {
      const s = this.suspicions.get(node);
      if (s !== undefined && s.incarnation === incarnation && s.confirm(from)) {
        this.broadcastMember(node, { type: 'Suspect', node, incarnation, from });
      }
      return;
    }
    if (m.state !== 'alive') return;
    m.state = 'suspect';
    m.incarnation = incarnation;
    m.stateChangedAt = now;
    const n = this.members.countActive();
    const min = suspicionMinTimeout(this.cfg.suspicionMult, n, this.cfg.probeIntervalMs);
    const max = min * this.cfg.suspicionMaxTimeoutMult;
    this.suspicions.set(node, new Suspicion(incarnation, from, now, this.cfg.suspicionConfirmations, min, max, confirmations));
    const msg: GossipMessage = { type: 'Suspect', node, incarnation, from };
    this.broadcastMember(node, msg);
    // Tell the suspect at once, so a live one refutes before any timer runs out.
    if (from === this.id) this.sendPacket(m.addr, [encodeMessage(msg)]);
    this.memberChanged(m, 'alive');
  }

  private deadNode(now: number, node: string, incarnation: number, from: string): void {
    const m = this.members.get(node);
    if (m === undefined || incarnation < m.incarnation) return;
    if (node === this.id) {
      if (!this.leaving) this.refute(incarnation, from);
      return;
    }
    if (m.state === 'dead' || m.state === 'left') return;
    const before = m.state;
    m.state = from === node ? 'left' : 'dead';
    m.incarnation = incarnation;
    m.stateChangedAt = now;
    this.suspicions.delete(node);
    this.broadcastMember(node, { type: 'Dead', node, incarnation, from });
    this.memberChanged(m, before);
  }

  /**
   * The last chance before a suspicion turns into a death: tell the suspect over TCP and give
   * it one probe interval to answer with its refutation. Gossip may not have brought this
   * node the refutation (a node can be missed by every retransmission of it), and TCP gets
   * through loss that UDP does not. A refused connection means the process is gone.
   */
  private verifySuspect(now: number, m: Member, s: Suspicion): void {
    s.verifying = true;
    s.deadline = now + this.cfg.probeIntervalMs;
    const id = this.nextStreamId();
    this.pendingStreams.set(id, { kind: 'verify', node: m.id, incarnation: s.incarnation });
    this.out.streams.push({ id, to: m.addr, payload: encodeStreamFrame({ type: 'Suspect', node: m.id, incarnation: s.incarnation, from: this.id }) });
  }

  /** Someone thinks this node is suspect or dead: outbid them with a higher incarnation. */
  private refute(incarnation: number, accuser: string | undefined): void {
    this.incarnation = Math.max(this.incarnation, incarnation) + 1;
    this.members.get(this.id)!.incarnation = this.incarnation;
    this.counters.refutations++;
    this.awareness.apply(1);
    const msg: GossipMessage = { type: 'Alive', node: this.id, addr: this.addr, incarnation: this.incarnation };
    this.broadcastMember(this.id, msg);
    const a = accuser === undefined ? undefined : this.members.get(accuser);
    if (a !== undefined && a.id !== this.id) this.sendPacket(a.addr, [encodeMessage(msg)]);
  }

  private memberChanged(m: Member, before: MemberState | undefined): void {
    this.members.changed();
    this.out.events.push({ kind: 'member', member: this.view(m) });
    const wasActive = before !== undefined && active(before);
    if (wasActive !== active(m.state)) {
      // The table store compares each entry's visibility before and after `change`: the state
      // has already moved on, so put the old one back for the "before" look (a new member was
      // not active), or a dead owner's entries would vanish from entries() without an event.
      const after = m.state;
      m.state = before ?? 'dead';
      this.tables.reevaluateOwner(m.id, () => {
        m.state = after;
      });
    }
  }

  private noteRevived(node: string): void {
    for (const network of this.tables.networksOf(node)) {
      if (!this.tables.inNetwork(network)) continue;
      let set = this.revived.get(network);
      if (set === undefined) this.revived.set(network, (set = new Set()));
      set.add(node);
    }
  }

  /** After members come back (a healed partition, a restart), bulk-sync once per network with one of them. */
  private syncRevived(): void {
    for (const [network, nodes] of this.revived) {
      const candidates = [...nodes].map((n) => this.members.get(n)).filter((m): m is Member => m !== undefined && m.state === 'alive');
      if (candidates.length > 0 && this.tables.inNetwork(network)) this.startBulkSync(candidates[this.rng.int(candidates.length)]!.addr, network);
    }
    this.revived.clear();
  }

  /**
   * A member that probes us but that we do not know, or think dead, knows the cluster: pull it
   * all from that member. Without this a restarted node with no seed (a sole manager) waits
   * for some periodic push-pull to pick it, up to a full push-pull interval per member.
   */
  private syncStranger(now: number, node: string, addr: string): void {
    if (node === this.id || this.leaving) return;
    const known = this.members.get(node);
    if (known !== undefined && known.state !== 'dead') return;
    const last = this.strangerSyncs.get(addr);
    if (last !== undefined && now - last < this.cfg.strangerSyncBackoffMs) return;
    this.strangerSyncs.set(addr, now);
    this.startPushPull(addr, false);
  }

  private syncNetworksWith(node: string): void {
    const m = this.members.get(node);
    if (m === undefined) return;
    for (const network of this.tables.myNetworks()) {
      if (this.tables.nodeInNetwork(node, network)) this.startBulkSync(m.addr, network);
      else this.bulkSyncSome(network, 1);
    }
  }

  private pullUnsyncedNetworks(): void {
    if (this.unsyncedNetworks.size === 0) return;
    const pulling = new Set<string>();
    for (const p of this.pendingStreams.values()) if (p.kind === 'bulk-sync') pulling.add(p.network);
    for (const network of this.unsyncedNetworks) if (!pulling.has(network)) this.bulkSyncSome(network, this.cfg.gossipNodes);
  }

  /** Bulk-syncs a network with up to k random alive members of it. */
  private bulkSyncSome(network: string, k: number): void {
    const nodes = this.tables.networkNodes(network).map((n) => this.members.get(n)).filter((m): m is Member => m !== undefined && m.state === 'alive');
    for (const m of this.members.pick(nodes, k)) this.startBulkSync(m.addr, network);
  }

  private probeHost(): ProbeHost {
    return {
      id: this.id,
      addr: this.addr,
      members: this.members,
      awareness: this.awareness,
      counters: this.counters,
      nextSeq: () => this.nextSeq(),
      sendPacket: (to, encoded) => this.sendPacket(to, encoded),
      sendWithPiggyback: (to, first, extra) => this.sendWithPiggyback(to, first, extra),
      startStreamPing: (to, frame, seq) => {
        const id = this.nextStreamId();
        this.pendingStreams.set(id, { kind: 'ping', seq });
        this.out.streams.push({ id, to, payload: frame });
      },
      suspect: (now, node, incarnation, confirmations) => this.suspectNode(now, node, incarnation, this.id, confirmations),
    };
  }

  // ---- gossip, push-pull -------------------------------------------------------------------

  private gossip(now: number): void {
    const budget = this.packetBudget();
    if (this.memberQueue.size > 0) {
      const limit = retransmitLimit(this.cfg.retransmitMult, this.members.countActive());
      const targets = this.members.random(this.cfg.gossipNodes, (m) => active(m.state) || (m.state === 'dead' && now - m.stateChangedAt < this.cfg.gossipToTheDeadMs));
      for (const t of targets) this.sendFromQueue(t.addr, this.memberQueue, budget, limit);
    }
    for (const [network, queue] of this.tableQueues) {
      if (queue.size === 0) continue;
      const nodes = this.tables.networkNodes(network).map((n) => this.members.get(n)).filter((m): m is Member => m !== undefined && active(m.state));
      const limit = retransmitLimit(this.cfg.retransmitMult, nodes.length + 1);
      for (const t of this.members.pick(nodes, this.cfg.gossipNodes)) this.sendFromQueue(t.addr, queue, budget, limit);
      if (nodes.length === 0) queue.clear();
    }
  }

  /** One gossip packet to `to` from `queue`, plus, over TCP, a message too large for any packet. */
  private sendFromQueue(to: string, queue: BroadcastQueue, budget: number, limit: number): void {
    const msgs = queue.take(budget - 2, COMPOUND_ENTRY_OVERHEAD, limit, MAX_COMPOUND_MESSAGES);
    if (msgs.length > 0) this.sendPacket(to, msgs);
    for (const big of queue.takeOversized(budget - 2 - COMPOUND_ENTRY_OVERHEAD, limit, 1)) {
      const id = this.nextStreamId();
      this.pendingStreams.set(id, { kind: 'notify' });
      const frame = new Uint8Array(big.length + 1);
      frame[0] = WIRE_VERSION;
      frame.set(big, 1);
      this.out.streams.push({ id, to, payload: frame });
    }
  }

  private localState(reply: boolean, join: boolean): PushPullMsg {
    const members: MemberRecord[] = [...this.members.values()].map((m) => ({ node: m.id, addr: m.addr, incarnation: m.incarnation, state: m.state }));
    return { type: 'PushPull', reply, join, from: this.id, members, networks: this.tables.networkRecords() };
  }

  private mergeState(now: number, m: PushPullMsg): void {
    for (const r of m.members) {
      switch (r.state) {
        case 'alive':
          this.aliveNode(now, r.node, r.addr, r.incarnation);
          break;
        // A remote "dead" only makes us suspect: it may be stale, and the member gets its
        // chance to refute (memberlist does the same).
        case 'suspect':
        case 'dead':
          this.suspectNode(now, r.node, r.incarnation, m.from, 0);
          break;
        case 'left':
          this.deadNode(now, r.node, r.incarnation, r.node);
          break;
      }
    }
    for (const n of m.networks) {
      const rebroadcast = this.tables.applyNetworkEvent(n);
      if (rebroadcast !== undefined && rebroadcast.node === this.id) this.broadcastMember(`net:${this.id}:${n.network}`, rebroadcast);
    }
  }

  private startPushPull(to: string, join: boolean): number {
    const id = this.nextStreamId();
    this.pendingStreams.set(id, { kind: 'push-pull', to, join });
    this.out.streams.push({ id, to, payload: encodeStreamFrame(this.localState(false, join)) });
    return id;
  }

  private startBulkSync(to: string, network: string): void {
    const id = this.nextStreamId();
    this.pendingStreams.set(id, { kind: 'bulk-sync', network });
    this.out.streams.push({ id, to, payload: encodeStreamFrame({ type: 'BulkSync', reply: false, network, from: this.id, entries: this.tables.syncEntries(network) }) });
  }

  private rejoinSeeds(): void {
    if (this.leaving) return;
    const aliveAddrs = new Set([...this.members.values()].filter((m) => m.id !== this.id && m.state === 'alive').map((m) => m.addr));
    for (const s of this.seeds) if (!aliveAddrs.has(s)) this.startPushPull(s, true);
  }

  private reap(now: number): void {
    const forgotten = new Set<string>();
    for (const m of this.members.values()) {
      if ((m.state === 'dead' || m.state === 'left') && m.id !== this.id && now - m.stateChangedAt >= this.cfg.deadMemberReapMs) forgotten.add(m.id);
    }
    this.members.removeAll(forgotten);
    this.tables.reap(now, this.cfg.tombstoneReapMs, forgotten);
    for (const [addr, at] of this.strangerSyncs) if (now - at >= this.cfg.strangerSyncBackoffMs) this.strangerSyncs.delete(addr);
  }

  // ---- sending -----------------------------------------------------------------------------

  private packetBudget(): number {
    return this.cfg.packetLimit - SEAL_OVERHEAD;
  }

  private broadcastMember(key: string, m: GossipMessage): void {
    this.memberQueue.enqueue(key, encodeMessage(m));
  }

  private broadcastEntry(m: TableEventMsg): void {
    let q = this.tableQueues.get(m.network);
    if (q === undefined) this.tableQueues.set(m.network, (q = new BroadcastQueue()));
    q.enqueue(`${m.table}\u0000${m.key}`, encodeMessage(m));
  }

  /** Sends a message with as many pending membership broadcasts as fit beside it. */
  private sendWithPiggyback(to: string, first: Uint8Array, extra: Uint8Array[] = []): void {
    const used = 2 + [first, ...extra].reduce((s, e) => s + e.length + COMPOUND_ENTRY_OVERHEAD, 0);
    const limit = retransmitLimit(this.cfg.retransmitMult, this.members.countActive());
    const more = this.memberQueue.take(this.packetBudget() - used, COMPOUND_ENTRY_OVERHEAD, limit, MAX_COMPOUND_MESSAGES - 1 - extra.length);
    this.sendPacket(to, [first, ...extra, ...more]);
  }

  private sendPacket(to: string, encoded: Uint8Array[]): void {
    const packet: OutPacket = { to, payload: encodePacket(encoded) };
    this.out.packets.push(packet);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private nextStreamId(): number {
    return ++this.streamId;
  }

  private view(m: Member): MemberView {
    return { id: m.id, addr: m.addr, state: m.state, incarnation: m.incarnation };
  }
}

export type { GossipEvent, OutStream };
