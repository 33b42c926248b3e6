/**
 * A seeded, in-process network of gossip cores on a virtual clock: packets with random delay
 * and loss, TCP streams that are reliable but slowed by loss (retransmissions) and cut by
 * partitions, crashes and restarts. Used by test/gossip and bench/gossip.ts. Nothing here is
 * real time: a run replays exactly from its seed.
 */
import { seededRng, type Rng } from '../../util/rng.js';
import type { GossipConfig } from '../config.js';
import { GossipCore } from '../core/gossip-core.js';
import type { GossipEvent } from '../core/types.js';
import { encodeStreamFrame } from '../wire/codec.js';
import { SEAL_OVERHEAD } from '../wire/limits.js';
import { EventHeap } from './event-heap.js';

export interface SimOptions {
  seed: number;
  config: GossipConfig;
  /** Probability that a UDP packet is lost (each TCP segment suffers it as a retransmission). */
  dropRate?: number;
  /** One-way latency range in ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface SimNode {
  readonly id: string;
  readonly addr: string;
  core: GossipCore;
  up: boolean;
  wakeAt: number;
  bytesSent: number;
  seeds: string[];
  networks: string[];
  /** How many times it was (re)started; a message in flight to an older life is lost. */
  life: number;
}

type SimEvent =
  | { kind: 'wake'; node: string }
  | { kind: 'packet'; to: string; from: string; payload: Uint8Array }
  | { kind: 'stream'; to: string; from: string; id: number; life: number; payload: Uint8Array; replyDelay: number }
  | { kind: 'stream-reply'; to: string; id: number; life: number; payload: Uint8Array }
  | { kind: 'stream-fail'; to: string; id: number; life: number };

/** TCP's first retransmission timeout (RFC 6298's 1 s), doubled per further loss. */
const TCP_RTO_MS = 1_000;

export class SimCluster {
  readonly rng: Rng;
  private readonly heap = new EventHeap<SimEvent>();
  private readonly nodes = new Map<string, SimNode>();
  private readonly byAddr = new Map<string, SimNode>();
  private groups = new Map<string, number>();
  now = 0;
  dropRate: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  /** Called with every event a node's core emits. */
  onEvent: (node: string, event: GossipEvent, at: number) => void = () => {};
  packetsDelivered = 0;
  packetsDropped = 0;

  constructor(private readonly opts: SimOptions) {
    this.rng = seededRng(opts.seed);
    this.dropRate = opts.dropRate ?? 0;
    this.minDelay = opts.minDelayMs ?? 1;
    this.maxDelay = opts.maxDelayMs ?? 5;
  }

  static addrOf(index: number): string {
    return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:7946`;
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no sim node ${id}`);
    return n;
  }

  allNodes(): SimNode[] {
    return [...this.nodes.values()];
  }

  upNodes(): SimNode[] {
    return this.allNodes().filter((n) => n.up);
  }

  /** Starts a node that joins `networks` and then the cluster through `seeds` (node IDs). */
  addNode(id: string, addr: string, seeds: readonly string[] = [], networks: readonly string[] = []): SimNode {
    const n: SimNode = {
      id,
      addr,
      core: this.newCore(id, addr),
      up: true,
      wakeAt: Infinity,
      bytesSent: 0,
      seeds: seeds.map((s) => this.node(s).addr),
      networks: [...networks],
      life: 1,
    };
    this.nodes.set(id, n);
    this.byAddr.set(addr, n);
    this.boot(n);
    return n;
  }

  private newCore(id: string, addr: string): GossipCore {
    return new GossipCore({ config: this.opts.config, nodeId: id, advertiseAddr: addr, rng: seededRng(this.rng.int(2 ** 31)), now: this.now });
  }

  private boot(n: SimNode): void {
    for (const net of n.networks) n.core.joinNetwork(this.now, net);
    if (n.seeds.length > 0) n.core.joinSeeds(this.now, n.seeds);
    this.flush(n);
  }

  /**
   * Starts nodes as a cluster that has already converged: each core merges the full state
   * through the ordinary push-pull path, and the broadcasts that merging queues are dropped,
   * so a benchmark starts from a formed cluster instead of replaying its formation.
   */
  formConverged(specs: ReadonlyArray<{ id: string; addr: string; networks: readonly string[] }>): void {
    const members = specs.map((s) => ({ node: s.id, addr: s.addr, incarnation: 0, state: 'alive' as const }));
    const networks = specs.flatMap((s) => s.networks.map((network) => ({ node: s.id, network, lamport: 1, joined: true })));
    for (const spec of specs) {
      const n: SimNode = { id: spec.id, addr: spec.addr, core: this.newCore(spec.id, spec.addr), up: true, wakeAt: Infinity, bytesSent: 0, seeds: [], networks: [...spec.networks], life: 1 };
      this.nodes.set(n.id, n);
      this.byAddr.set(n.addr, n);
      for (const net of spec.networks) n.core.joinNetwork(this.now, net);
      n.core.handleStream(this.now, spec.addr, encodeStreamFrame({ type: 'PushPull', reply: false, join: false, from: spec.id, members, networks }));
      n.core.drain();
      n.core.discardPendingBroadcasts();
      this.flush(n);
    }
  }

  /** The process dies: no more input, no goodbye; its state is lost. */
  crash(id: string): void {
    const n = this.node(id);
    n.up = false;
    n.wakeAt = Infinity;
  }

  /** Starts a crashed node afresh (same ID and address, empty state) and rejoins. */
  restart(id: string): void {
    const n = this.node(id);
    n.up = true;
    n.life++;
    n.core = this.newCore(n.id, n.addr);
    n.wakeAt = Infinity;
    this.boot(n);
  }

  /** Splits the network: nodes in different groups cannot reach each other; unlisted nodes form group 0. */
  partition(groups: readonly (readonly string[])[]): void {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groups.set(this.node(id).addr, i + 1)));
  }

  heal(): void {
    this.groups = new Map();
  }

  private reachable(a: string, b: string): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  private delay(): number {
    return this.minDelay + this.rng.float() * (this.maxDelay - this.minDelay);
  }

  /** A TCP leg's time: one-way delay plus a retransmission for each lost segment. */
  private tcpLeg(): number {
    let t = this.delay();
    let rto = TCP_RTO_MS;
    while (this.rng.float() < this.dropRate) {
      t += rto;
      rto *= 2;
    }
    return t;
  }

  /** Sends what a node's core produced, and re-arms its wake-up. */
  flush(n: SimNode): void {
    if (!n.up) return;
    const out = n.core.drain();
    for (const p of out.packets) {
      n.bytesSent += p.payload.length + SEAL_OVERHEAD;
      if (this.rng.float() < this.dropRate) {
        this.packetsDropped++;
        continue;
      }
      this.heap.push(this.now + this.delay(), { kind: 'packet', to: p.to, from: n.addr, payload: p.payload });
    }
    for (const s of out.streams) {
      n.bytesSent += s.payload.length + SEAL_OVERHEAD + 4;
      const timeout = this.opts.config.streamTimeoutMs;
      const there = this.tcpLeg();
      const back = this.tcpLeg();
      const target = this.byAddr.get(s.to);
      if (target === undefined || !this.reachable(n.addr, s.to) || there + back > timeout) {
        this.heap.push(this.now + timeout, { kind: 'stream-fail', to: n.id, id: s.id, life: n.life });
      } else {
        this.heap.push(this.now + there, { kind: 'stream', to: s.to, from: n.id, id: s.id, life: n.life, payload: s.payload, replyDelay: back });
      }
    }
    for (const e of out.events) this.onEvent(n.id, e, this.now);
    const wake = Math.max(n.core.nextWakeup(), this.now + 1);
    if (wake < n.wakeAt) {
      n.wakeAt = wake;
      this.heap.push(wake, { kind: 'wake', node: n.id });
    }
  }

  private step(ev: SimEvent): void {
    switch (ev.kind) {
      case 'wake': {
        const n = this.nodes.get(ev.node)!;
        if (!n.up || n.wakeAt !== this.now) return;
        n.wakeAt = Infinity;
        n.core.tick(this.now);
        this.flush(n);
        return;
      }
      case 'packet': {
        const n = this.byAddr.get(ev.to);
        if (n === undefined || !n.up || !this.reachable(ev.from, ev.to)) {
          this.packetsDropped++;
          return;
        }
        this.packetsDelivered++;
        n.core.handlePacket(this.now, ev.from, ev.payload);
        this.flush(n);
        return;
      }
      case 'stream': {
        const server = this.byAddr.get(ev.to);
        const client = this.nodes.get(ev.from)!;
        if (server === undefined || !server.up || !this.reachable(client.addr, ev.to)) {
          // A dead process refuses at once (RST); a partition shows as a timeout.
          const failAt = server !== undefined && !server.up && this.reachable(client.addr, ev.to) ? this.now + ev.replyDelay : this.now + this.opts.config.streamTimeoutMs;
          this.heap.push(failAt, { kind: 'stream-fail', to: ev.from, id: ev.id, life: ev.life });
          return;
        }
        const reply = server.core.handleStream(this.now, client.addr, ev.payload);
        this.flush(server);
        if (reply === undefined) {
          this.heap.push(this.now + ev.replyDelay, { kind: 'stream-fail', to: ev.from, id: ev.id, life: ev.life });
        } else {
          server.bytesSent += reply.length + SEAL_OVERHEAD + 4;
          this.heap.push(this.now + ev.replyDelay, { kind: 'stream-reply', to: ev.from, id: ev.id, life: ev.life, payload: reply });
        }
        return;
      }
      case 'stream-reply':
      case 'stream-fail': {
        const n = this.nodes.get(ev.to)!;
        if (!n.up || n.life !== ev.life) return;
        if (ev.kind === 'stream-reply') n.core.handleStreamReply(this.now, ev.id, ev.payload);
        else n.core.handleStreamFailure(this.now, ev.id);
        this.flush(n);
        return;
      }
    }
  }

  /** Runs every event up to and including time `t`. */
  runUntil(t: number): void {
    while (this.heap.peekTime() <= t) {
      const e = this.heap.pop()!;
      this.now = e.at;
      this.step(e.value);
    }
    this.now = t;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until `cond` holds (checked every `everyMs`) or `maxMs` pass; returns whether it held. */
  runUntilTrue(cond: () => boolean, maxMs: number, everyMs = 100): boolean {
    const end = this.now + maxMs;
    while (this.now < end) {
      if (cond()) return true;
      this.runUntil(Math.min(end, this.now + everyMs));
    }
    return cond();
  }

  /** Applies a command to a live node's core at the current time and sends its output. */
  act(id: string, fn: (core: GossipCore, now: number) => void): void {
    const n = this.node(id);
    if (!n.up) throw new Error(`sim node ${id} is down`);
    fn(n.core, this.now);
    this.flush(n);
  }
}
