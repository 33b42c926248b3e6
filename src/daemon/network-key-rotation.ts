import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../config/parse-config.js';
import { errorMessage } from '../errors/index.js';
import { GOSSIP_KEY_BYTES, GossipKeyManager, KEY_ROTATION_MS, KEYS_KEPT, type GossipKey } from '../gossip/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import type { Cluster, EncryptionKey } from '../objects/index.js';
import type { MemoryStore } from '../manager/store/index.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';

/** The subsystem name of the gossip keys in Cluster.network_bootstrap_keys (swarmkit's). */
export const GOSSIP_KEY_SUBSYSTEM = 'networking:gossip';

/** ms between looks for the Cluster object right after init (it is written a moment after the election). */
const CLUSTER_WAIT_MS = 250;

const networkKeyRotationSchema = z.object({
  // 12 h between rotations (swarmkit's keymanager period): a node offline for less than
  // (keysKept - 1) periods still holds a key the others accept when it returns.
  rotationMs: z.number().int().min(1_000).default(KEY_ROTATION_MS),
  // 3 keys (swarmkit's keyring size): the one nodes send with (second newest), the newest
  // being distributed, and one older for nodes that have not heard of the newest yet.
  keysKept: z.number().int().min(2).max(16).default(KEYS_KEPT),
  // 60 s between looks at the rotation time and retries of a failed store write: a rotation
  // is at most a minute late, a negligible part of 12 h, for one comparison a minute.
  checkIntervalMs: z.number().int().min(10).default(60_000),
});

export type NetworkKeyRotationConfig = z.output<typeof networkKeyRotationSchema>;

export interface NetworkKeyRotationOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly config?: z.input<typeof networkKeyRotationSchema>;
  /** Time for the rotation period; systemClock by default. */
  readonly clock?: Clock;
  /** Makes a 32-byte AES-256 key; node:crypto randomBytes by default. */
  readonly newKey?: () => Uint8Array;
}

/** The gossip keys a Cluster holds, oldest first, as the pure key manager takes them. */
export function storedGossipKeys(cluster: Cluster | undefined, now: number): GossipKey[] {
  return (cluster?.networkBootstrapKeys ?? [])
    .filter((k) => k.subsystem === GOSSIP_KEY_SUBSYSTEM && k.key.length === GOSSIP_KEY_BYTES)
    .map((k) => ({ key: k.key, lamport: k.lamportTime, createdAt: now }))
    .sort((a, b) => a.lamport - b.lamport);
}

/** The Cluster with its gossip keys replaced by `keys` (other subsystems' keys kept). */
export function withGossipKeys(cluster: Cluster, keys: readonly GossipKey[]): Cluster {
  const others = cluster.networkBootstrapKeys.filter((k) => k.subsystem !== GOSSIP_KEY_SUBSYSTEM);
  const gossip: EncryptionKey[] = keys.map((k) => ({ subsystem: GOSSIP_KEY_SUBSYSTEM, algorithm: 'AES_256_GCM', key: k.key, lamportTime: k.lamport }));
  const clock = Math.max(cluster.encryptionKeyLamportClock, ...keys.map((k) => k.lamport));
  return { ...cluster, networkBootstrapKeys: [...others, ...gossip], encryptionKeyLamportClock: clock };
}

function sameKeys(a: readonly GossipKey[], b: readonly GossipKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.lamport === b[i]!.lamport && Buffer.from(k.key).equals(Buffer.from(b[i]!.key)));
}

/**
 * The leader's gossip key rotation (swarmkit's keymanager), a leader-only component: at its
 * first start in a cluster it makes a full keyring (3 keys, so nodes send with the second
 * newest from the start), then rotates every 12 h, keeping 3, and writes them with the
 * Lamport clock to the Cluster object; the dispatcher hands them to every node's session.
 * Stored keys carry no creation time, so a new leader counts the period from its election
 * (swarmkit does the same). Key bytes never reach the logs: only Lamport times do.
 */
export class NetworkKeyRotation {
  private readonly cfg: NetworkKeyRotationConfig;
  private readonly clock: Clock;
  private readonly newKey: () => Uint8Array;
  private readonly log: Logger;
  private manager: GossipKeyManager | undefined;
  /** Keys made here and not yet in the store (a write failed): written at the next check. */
  private unwritten = false;
  private timer: TimerHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: NetworkKeyRotationOptions) {
    this.cfg = parseConfig('network key rotation', networkKeyRotationSchema, opts.config ?? {});
    this.clock = opts.clock ?? systemClock;
    this.newKey = opts.newKey ?? ((): Uint8Array => new Uint8Array(randomBytes(GOSSIP_KEY_BYTES)));
    this.log = componentLogger(opts.logger, 'network-key-rotation');
  }

  start(): void {
    this.stopped = false;
    this.check();
  }

  /** One look: load the keys on the first, rotate if due, write what the store lacks. */
  private check(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    try {
      if (this.manager === undefined) {
        const cluster = this.opts.store.view((tx) => tx.list('cluster')[0]);
        if (cluster !== undefined) {
          const stored = storedGossipKeys(cluster, now);
          const options = { rotationMs: this.cfg.rotationMs, keep: this.cfg.keysKept, newKey: this.newKey };
          this.manager = new GossipKeyManager(options, now, stored);
          if (stored.length === 0) {
            // A fresh cluster: a full keyring at once.
            for (let i = 1; i < this.cfg.keysKept; i++) this.manager.rotate(now);
            this.unwritten = true;
          }
        }
      }
      if (this.manager?.tick(now) === true) this.unwritten = true;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'gossip key rotation failed; trying again at the next check');
    }
    if (this.unwritten) this.writing = this.writing.then(() => this.write());
    // Until init has written the Cluster object there is nothing to key: look again soon.
    const next = this.manager === undefined ? CLUSTER_WAIT_MS : this.cfg.checkIntervalMs;
    this.timer = this.clock.setTimeout(() => this.check(), next);
  }

  private async write(): Promise<void> {
    const manager = this.manager;
    if (manager === undefined || !this.unwritten || this.stopped) return;
    const keys = manager.keys();
    try {
      await this.opts.store.update((tx) => {
        const cluster = tx.list('cluster')[0];
        if (cluster === undefined || sameKeys(storedGossipKeys(cluster, 0), keys)) return;
        tx.update('cluster', withGossipKeys(cluster, keys));
      });
      if (manager.keys().every((k, i) => k === keys[i])) this.unwritten = false;
      this.log.info({ lamportTimes: keys.map((k) => k.lamport), nextRotationInMs: manager.nextRotationAt() - this.clock.now() }, 'gossip keys written to the cluster');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'cannot write the gossip keys yet; trying again at the next check');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
  }
}
