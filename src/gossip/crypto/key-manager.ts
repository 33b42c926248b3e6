/**
 * The leader's gossip key manager, as a pure class: it makes a key, rotates every
 * `rotationMs` (12 h) and keeps the newest `keep` (3), each tagged with a Lamport time so a
 * new leader continues the order. Randomness is injected (`newKey`), time is passed in. The
 * lead stores `keys()` in Cluster.network_bootstrap_keys and hands them out in the dispatcher
 * session; nodes pass them to GossipNode.setKeys (newest last).
 */
import { TsswarmError } from '../../errors/index.js';
import { GOSSIP_KEY_BYTES } from './keyring.js';

export interface GossipKey {
  readonly key: Uint8Array;
  readonly lamport: number;
  /** When the key was made, in the caller's clock (ms). */
  readonly createdAt: number;
}

export interface KeyManagerOptions {
  /** 12 h (swarmkit's period): long enough that a node offline briefly misses no key. */
  rotationMs?: number;
  /** 3 keys: the sending key, the newer one being distributed, and one older for stragglers. */
  keep?: number;
  /** Makes a fresh 32-byte key (node:crypto randomBytes in production, seeded in tests). */
  newKey: () => Uint8Array;
}

export const KEY_ROTATION_MS = 12 * 60 * 60 * 1_000;
export const KEYS_KEPT = 3;

export class GossipKeyManager {
  private readonly rotationMs: number;
  private readonly keep: number;
  private readonly newKey: () => Uint8Array;
  private current: GossipKey[];

  /** Starts from `existing` keys (e.g. read from the Cluster object), or makes the first key. */
  constructor(opts: KeyManagerOptions, now: number, existing: readonly GossipKey[] = []) {
    this.rotationMs = opts.rotationMs ?? KEY_ROTATION_MS;
    this.keep = opts.keep ?? KEYS_KEPT;
    this.newKey = opts.newKey;
    if (this.keep < 2) throw new TsswarmError('CONFIG_INVALID', { component: 'gossip key manager', problems: 'keep: must be at least 2' });
    this.current = [...existing].sort((a, b) => a.lamport - b.lamport).slice(-this.keep);
    if (this.current.length === 0) this.current = [this.make(now, 1)];
  }

  private make(now: number, lamport: number): GossipKey {
    const key = this.newKey();
    if (key.length !== GOSSIP_KEY_BYTES) throw new TsswarmError('GOSSIP_INVALID_KEY', { index: 0, reason: `the generator made ${key.length} bytes` });
    return { key, lamport, createdAt: now };
  }

  /** The keys, oldest first (newest last, as setKeys wants). */
  keys(): GossipKey[] {
    return [...this.current];
  }

  /** When the next rotation is due. */
  nextRotationAt(): number {
    return this.current[this.current.length - 1]!.createdAt + this.rotationMs;
  }

  /** Rotates if due; returns true if the keys changed (the caller then persists them). */
  tick(now: number): boolean {
    if (now < this.nextRotationAt()) return false;
    this.rotate(now);
    return true;
  }

  /** Adds a new key now and drops the oldest beyond `keep`. */
  rotate(now: number): void {
    const newest = this.current[this.current.length - 1]!;
    this.current = [...this.current, this.make(now, newest.lamport + 1)].slice(-this.keep);
  }
}
