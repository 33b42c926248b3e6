import { errorMessage } from '../errors/index.js';
import { GOSSIP_KEY_BYTES, GOSSIP_PORT, GossipNode, type GossipConfigInput, type GossipProfile, type MemberView } from '../gossip/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import type { EncryptionKey } from '../objects/index.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { SessionEvents } from '../worker/agent/index.js';
import { GOSSIP_KEY_SUBSYSTEM } from './network-key-rotation.js';

/**
 * ms before a gossip node that could not start (its port taken, its address gone) is tried
 * again: often enough that a freed port is used within seconds, rarely enough that the log
 * does not fill with one failure.
 */
const RESTART_DELAY_MS = 10_000;

/** What `tsswarm info` shows of this node's gossip. */
export interface NodeGossipInfo {
  /** This node's gossip address, host:7946. */
  readonly addr: string;
  /** The members this node sees (itself included), by ID. */
  readonly members: readonly MemberView[];
  /** Packets and frames dropped, by reason (unknown-key, decrypt-failed, not-encrypted, ...). */
  readonly dropped: Readonly<Record<string, number>>;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** How many keys the keyring holds (never the keys). */
  readonly keys: number;
}

/** The session events node gossip follows (NodeSession.on). */
export interface GossipSessionEvents {
  on<E extends 'networkKeys' | 'managers'>(event: E, listener: SessionEvents[E]): () => void;
}

export interface NodeGossipOptions {
  readonly nodeId: string;
  /** The node's advertise address (host only): gossip binds and advertises host:7946 there. */
  readonly advertiseHost: string;
  readonly session: GossipSessionEvents;
  readonly logger: Logger;
  /** 7946 (Docker's); tests on one machine give each daemon its own address instead. */
  readonly port?: number;
  readonly profile?: GossipProfile;
  readonly config?: GossipConfigInput;
  readonly clock?: Clock;
}

/** The gossip keys of a session message, newest last, as GossipNode.setKeys wants them. */
export function gossipKeyBytes(keys: readonly EncryptionKey[]): Uint8Array[] {
  return keys
    .filter((k) => k.subsystem === GOSSIP_KEY_SUBSYSTEM && k.key.length === GOSSIP_KEY_BYTES)
    .sort((a, b) => a.lamportTime - b.lamportTime)
    .map((k) => new Uint8Array(k.key));
}

/** The gossip seeds: every manager's host (from host:2377) on the gossip port, except this node. */
export function gossipSeeds(managerAddrs: readonly string[], ownHost: string, port: number): string[] {
  const hosts = managerAddrs.map((a) => a.replace(/^\[?(.*?)\]?:\d+$/, '$1')).filter((h) => h !== '' && h !== ownHost);
  return [...new Set(hosts)].sort().map((h) => (h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`));
}

/**
 * A daemon's gossip (Docker's networkdb membership): it starts once the node's dispatcher
 * session has handed out the cluster's gossip keys (nothing is ever sent in clear), binds
 * host:7946 of the advertise address, joins the managers as seeds, and follows key rotations
 * and manager changes from the session. A failure to start is logged and retried; it never
 * stops the daemon. stop() leaves gracefully, so the others see "left" rather than "dead".
 */
export class NodeGossip {
  private node: GossipNode | undefined;
  private starting = false;
  private stopped = false;
  private keys: Uint8Array[] = [];
  private seeds: string[] = [];
  private retry: TimerHandle | undefined;
  private readonly port: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly unsubscribe: Array<() => void>;
  private readonly nodeListeners = new Set<(node: GossipNode | undefined) => void>();

  constructor(private readonly opts: NodeGossipOptions) {
    this.port = opts.port ?? GOSSIP_PORT;
    this.clock = opts.clock ?? systemClock;
    this.log = componentLogger(opts.logger, 'node-gossip', { nodeId: opts.nodeId });
    this.unsubscribe = [
      opts.session.on('networkKeys', (keys) => this.onKeys(keys)),
      opts.session.on('managers', (managers) => this.onManagers(managers.map((m) => m.addr))),
    ];
  }

  private onKeys(keys: readonly EncryptionKey[]): void {
    const bytes = gossipKeyBytes(keys);
    if (bytes.length === 0) return;
    this.keys = bytes;
    if (this.node !== undefined) {
      this.node.setKeys(bytes);
      this.log.info({ keys: bytes.length }, 'gossip keyring updated');
    } else {
      this.ensureStarted();
    }
  }

  private onManagers(addrs: readonly string[]): void {
    const seeds = gossipSeeds(addrs, this.opts.advertiseHost, this.port);
    if (seeds.join() === this.seeds.join()) return;
    this.seeds = seeds;
    // Joining again is harmless (a push-pull with each seed); it adds the new ones.
    if (this.node !== undefined && seeds.length > 0) this.node.join(seeds).catch(() => undefined);
  }

  private ensureStarted(): void {
    if (this.node !== undefined || this.starting || this.stopped || this.keys.length === 0) return;
    this.starting = true;
    const host = this.opts.advertiseHost;
    GossipNode.start({
      nodeId: this.opts.nodeId, bindAddr: host, advertiseAddr: host, port: this.port, keys: this.keys, seeds: this.seeds,
      logger: this.opts.logger, profile: this.opts.profile ?? 'lan', ...(this.opts.config !== undefined ? { config: this.opts.config } : {}),
    }).then(
      (node) => {
        this.starting = false;
        if (this.stopped) {
          void node.stop();
          return;
        }
        this.node = node;
        // Keys or seeds that changed while it bound.
        node.setKeys(this.keys);
        this.log.info({ addr: node.advertiseAddr, seeds: this.seeds }, 'gossip started');
        this.announce(node);
      },
      (err: unknown) => {
        this.starting = false;
        if (this.stopped) return;
        this.log.error({ err: errorMessage(err), retryInMs: RESTART_DELAY_MS }, 'gossip did not start');
        this.retry = this.clock.setTimeout(() => {
          this.retry = undefined;
          this.ensureStarted();
        }, RESTART_DELAY_MS);
      },
    );
  }

  /** What this node's gossip sees now; undefined until it runs. */
  info(): NodeGossipInfo | undefined {
    const node = this.node;
    if (node === undefined) return undefined;
    const stats = node.stats();
    return {
      addr: node.advertiseAddr,
      members: [...node.members()].sort((a, b) => a.id.localeCompare(b.id)),
      dropped: { ...stats.dropped },
      packetsSent: stats.packetsSent,
      packetsReceived: stats.packetsReceived,
      keys: this.keys.length,
    };
  }

  /** The running GossipNode; undefined until it runs. */
  gossipNode(): GossipNode | undefined {
    return this.node;
  }

  /**
   * Follows the running GossipNode: `listener` gets it when it starts (at once if it already
   * runs) and undefined when it stops; what uses gossip (the node's networks) re-applies its
   * state to each new node. Returns the unsubscribe function.
   */
  onNode(listener: (node: GossipNode | undefined) => void): () => void {
    this.nodeListeners.add(listener);
    if (this.node !== undefined) listener(this.node);
    return () => this.nodeListeners.delete(listener);
  }

  private announce(node: GossipNode | undefined): void {
    for (const l of this.nodeListeners) {
      try {
        l(node);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'gossip node listener threw');
      }
    }
  }

  /** Leaves gracefully (others see "left") and closes the sockets. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.retry !== undefined) this.clock.clearTimeout(this.retry);
    const node = this.node;
    this.node = undefined;
    if (node !== undefined) this.announce(undefined);
    this.nodeListeners.clear();
    await node?.leave().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'gossip leave failed'));
  }
}
