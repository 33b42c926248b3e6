/**
 * GossipNode: the core on real sockets and timers. This is the API the daemon uses; see
 * src/gossip/README.md. All protocol decisions are in GossipCore; this class only moves
 * bytes, runs the clock and turns core events into listener calls.
 */
import { TsswarmError } from '../../errors/index.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { systemRng, type Rng } from '../../util/rng.js';
import { resolveGossipConfig, type GossipConfig, type GossipConfigInput, type GossipProfile } from '../config.js';
import { GossipCore } from '../core/gossip-core.js';
import type { CoreCounters, GossipEvent, MemberChange, MemberView, TableChange, TableEntryView } from '../core/types.js';
import { Keyring } from '../crypto/keyring.js';
import { seal } from '../crypto/sealer.js';
import { MAX_STRING_BYTES, MAX_VALUE_BYTES } from '../wire/limits.js';
import { SocketTransport, type TransportCounters } from './socket-transport.js';

export interface GossipNodeOptions {
  /** Tunables; the profile's defaults apply first (see ../config.ts). */
  config?: GossipConfigInput;
  profile?: GossipProfile;
  nodeId: string;
  /** The address the sockets bind to (often the advertise address, or 0.0.0.0). */
  bindAddr: string;
  /** The address others reach this node at. */
  advertiseAddr: string;
  /** TCP and UDP port, 7946 in production; 0 picks a free one (for tests). */
  port: number;
  /** AES-256-GCM keys (32 bytes), newest last. */
  keys: readonly Uint8Array[];
  /** host:port of the managers to join through (also retried after partitions). */
  seeds?: readonly string[];
  logger?: Logger;
  clock?: Clock;
  rng?: Rng;
}

export interface GossipStats {
  /** Dropped packets and frames by reason. */
  dropped: TransportCounters['dropped'] & { malformed: number; misdirected: number; foreignTable: number };
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  streamsOpened: number;
  streamsFailed: number;
  probes: number;
  failedProbes: number;
  refutations: number;
  healthScore: number;
}

export type GossipListener = (event: MemberChange | TableChange) => void;

export interface GossipTable {
  put(key: string, value: Uint8Array): void;
  /** Deletes the entry; false if there was none. */
  delete(key: string): boolean;
  /** The visible entries, sorted by key. */
  entries(): TableEntryView[];
}

function checkName(field: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.length === 0 || Buffer.byteLength(v) > MAX_STRING_BYTES) {
    throw new TsswarmError('GOSSIP_INVALID_ARGUMENT', { field, problem: 'must be a non-empty string of at most 1 KiB' });
  }
}

export class GossipNode {
  private readonly listeners = new Set<GossipListener>();
  private readonly joinWaiters: Array<(contacted: number, seeds: string[]) => void> = [];
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private stopped = false;

  private constructor(
    readonly config: GossipConfig,
    private readonly core: GossipCore,
    private readonly transport: SocketTransport,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly advertiseAddr: string,
  ) {}

  /** Binds UDP and TCP, then joins `seeds` in the background (see join() to wait for it). */
  static async start(opts: GossipNodeOptions): Promise<GossipNode> {
    const config = resolveGossipConfig(opts.config ?? {}, opts.profile ?? 'lan');
    checkName('nodeId', opts.nodeId);
    const keyring = new Keyring(opts.keys);
    const clock = opts.clock ?? systemClock;
    const log = componentLogger(opts.logger ?? silentLogger(), 'gossip', { nodeId: opts.nodeId });
    // The transport's handlers reach the node once it exists (packets before that are dropped).
    const ref: { node?: GossipNode } = {};
    const { transport, port } = await SocketTransport.listen({
      host: opts.bindAddr,
      port: opts.port,
      keyring,
      packetLimit: config.packetLimit,
      streamTimeoutMs: config.streamTimeoutMs,
      handlers: {
        packet: (from, p) => ref.node?.onPacket(from, p),
        stream: (from, p) => ref.node?.onStream(from, p),
      },
    });
    const advertiseAddr = `${opts.advertiseAddr}:${port}`;
    const core = new GossipCore({ config, nodeId: opts.nodeId, advertiseAddr, rng: opts.rng ?? systemRng, now: clock.now() });
    const node = new GossipNode(config, core, transport, keyring, clock, log, advertiseAddr);
    ref.node = node;
    log.info({ addr: advertiseAddr }, 'gossip listening');
    if (opts.seeds !== undefined && opts.seeds.length > 0) node.join(opts.seeds).catch(() => {});
    node.pump();
    return node;
  }

  /**
   * Push-pulls with each seed; resolves with how many answered. Throws GOSSIP_JOIN_FAILED if
   * none did; the node keeps retrying them every rejoin interval anyway.
   */
  join(seeds: readonly string[]): Promise<number> {
    this.assertRunning();
    const p = new Promise<number>((resolve, reject) => {
      this.joinWaiters.push((contacted, tried) => {
        if (contacted > 0 || tried.length === 0) resolve(contacted);
        else reject(new TsswarmError('GOSSIP_JOIN_FAILED', { seeds: tried.join(', ') }));
      });
    });
    this.core.joinSeeds(this.clock.now(), seeds);
    this.pump();
    return p;
  }

  /** Announces a graceful leave, lets it spread for a few gossip rounds, then stops. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.core.leave(this.clock.now());
    this.pump();
    await new Promise<void>((r) => this.clock.setTimeout(r, this.config.gossipIntervalMs * 3));
    await this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.transport.close();
    this.log.info('gossip stopped');
  }

  members(): MemberView[] {
    return this.core.memberList();
  }

  get nodeId(): string {
    return this.core.id;
  }

  /** Replaces the keyring (newest last); sends with the second-newest when there are two or more. */
  setKeys(keys: readonly Uint8Array[]): void {
    this.keyring.set(keys);
  }

  joinNetwork(network: string): void {
    this.assertRunning();
    checkName('network', network);
    this.core.joinNetwork(this.clock.now(), network);
    this.pump();
  }

  leaveNetwork(network: string): void {
    this.assertRunning();
    checkName('network', network);
    this.core.leaveNetwork(this.clock.now(), network);
    this.pump();
  }

  networks(): string[] {
    return this.core.networks();
  }

  /** The live members (alive or suspect) that joined `network`, this node too when it did. */
  networkMembers(network: string): MemberView[] {
    checkName('network', network);
    return this.core.networkMembers(network);
  }

  table(network: string, table: string): GossipTable {
    checkName('network', network);
    checkName('table', table);
    const guard = (): void => {
      this.assertRunning();
      if (!this.core.inNetwork(network)) throw new TsswarmError('GOSSIP_NOT_IN_NETWORK', { network });
    };
    return {
      put: (key, value) => {
        guard();
        checkName('key', key);
        if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_BYTES) {
          throw new TsswarmError('GOSSIP_INVALID_ARGUMENT', { field: 'value', problem: 'must be a Uint8Array of at most 64 KiB' });
        }
        this.core.put(this.clock.now(), network, table, key, new Uint8Array(value));
        this.pump();
      },
      delete: (key) => {
        guard();
        checkName('key', key);
        const done = this.core.delete(this.clock.now(), network, table, key);
        this.pump();
        return done;
      },
      entries: () => {
        guard();
        return this.core.entries(network, table);
      },
    };
  }

  /** Member and table events, in order; returns the unsubscribe function. */
  subscribe(listener: GossipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): GossipStats {
    const t = this.transport.counters;
    const c: CoreCounters = this.core.counters;
    return {
      dropped: { ...t.dropped, malformed: c.malformed, misdirected: c.misdirectedPings, foreignTable: c.foreignTableEvents },
      bytesSent: t.bytesSent,
      bytesReceived: t.bytesReceived,
      packetsSent: t.packetsSent,
      packetsReceived: t.packetsReceived,
      streamsOpened: t.streamsOpened,
      streamsFailed: t.streamsFailed,
      probes: c.probes,
      failedProbes: c.failedProbes,
      refutations: c.refutations,
      healthScore: this.core.healthScore,
    };
  }

  /** Test hook: drop all traffic to and from these hosts (a partition on loopback). */
  setBlockedHosts(hosts: readonly string[]): void {
    this.transport.blockedHosts.clear();
    for (const h of hosts) this.transport.blockedHosts.add(h);
  }

  /** Test hook: sends a gossip packet sealed with `key` (e.g. one the peer lacks). */
  sendProbeWithKey(to: string, key: Uint8Array): void {
    const ring = new Keyring([key]);
    const packet = new Uint8Array([1, 1, 0, 5, 3, 0, 0, 0, 0]); // one Ack{seq: 0}
    this.transport.sendRaw(to, seal(ring, packet));
  }

  /** Test hook: sends bytes without sealing them. */
  sendPlaintext(to: string, bytes: Uint8Array): void {
    this.transport.sendRaw(to, bytes);
  }

  // ---- driving the core ------------------------------------------------------------------

  private assertRunning(): void {
    if (this.stopped) throw new TsswarmError('GOSSIP_STOPPED');
  }

  private onPacket(from: string, plaintext: Uint8Array): void {
    if (this.stopped) return;
    this.core.handlePacket(this.clock.now(), from, plaintext);
    this.pump();
  }

  private onStream(from: string, plaintext: Uint8Array): Uint8Array | undefined {
    if (this.stopped) return undefined;
    const reply = this.core.handleStream(this.clock.now(), from, plaintext);
    this.pump();
    return reply;
  }

  /** Runs due timers, performs the core's output, and re-arms the wake-up timer. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.core.tick(now);
    const out = this.core.drain();
    for (const p of out.packets) this.transport.sendPacket(p.to, p.payload);
    for (const s of out.streams) {
      this.transport.request(s.to, s.payload).then(
        (reply) => {
          if (this.stopped) return;
          this.core.handleStreamReply(this.clock.now(), s.id, reply);
          this.pump();
        },
        () => {
          if (this.stopped) return;
          this.core.handleStreamFailure(this.clock.now(), s.id);
          this.pump();
        },
      );
    }
    for (const e of out.events) this.deliver(e);
    this.arm();
  }

  private deliver(e: GossipEvent): void {
    if (e.kind === 'join') {
      const waiters = this.joinWaiters.splice(0);
      for (const w of waiters) w(e.contacted, e.seeds);
      if (e.contacted === 0 && e.seeds.length > 0) this.log.warn({ seeds: e.seeds }, 'no gossip seed answered; retrying later');
      return;
    }
    if (e.kind === 'member') this.log.debug({ member: e.member }, 'member changed');
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'gossip listener threw');
      }
    }
  }

  private arm(): void {
    const at = Math.max(this.core.nextWakeup(), this.clock.now() + 1);
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, at - this.clock.now());
  }
}
