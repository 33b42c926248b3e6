/**
 * The gossip keyring: AES-256-GCM keys, newest last. Every known key decrypts; the sending
 * ("primary") key is the second-newest when there are two or more, so a new key reaches every
 * node before anyone sends with it (libnetwork's rule).
 */
import { createHash } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';

export const GOSSIP_KEY_BYTES = 32;
export const KEY_HINT_BYTES = 4;

/** The 4-byte hint a sealed frame carries to name its key: the first bytes of SHA-256(key). */
export function keyHint(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(key).digest().subarray(0, KEY_HINT_BYTES));
}

const hintId = (hint: Uint8Array): number => ((hint[0]! << 24) | (hint[1]! << 16) | (hint[2]! << 8) | hint[3]!) >>> 0;

export interface KeyringEntry {
  readonly key: Uint8Array;
  readonly hint: Uint8Array;
}

export class Keyring {
  private entries: KeyringEntry[] = [];
  private readonly byHint = new Map<number, KeyringEntry>();

  constructor(keys: readonly Uint8Array[]) {
    this.set(keys);
  }

  /** Replaces the keys (newest last). Throws GOSSIP_INVALID_KEY and keeps the old keys on bad input. */
  set(keys: readonly Uint8Array[]): void {
    if (keys.length === 0) throw new TsswarmError('GOSSIP_INVALID_KEY', { index: 0, reason: 'the keyring is empty' });
    keys.forEach((k, i) => {
      if (!(k instanceof Uint8Array) || k.length !== GOSSIP_KEY_BYTES) {
        throw new TsswarmError('GOSSIP_INVALID_KEY', { index: i, reason: `it has ${k?.length ?? 0} bytes, not ${GOSSIP_KEY_BYTES}` });
      }
    });
    const entries = keys.map((k) => ({ key: new Uint8Array(k), hint: keyHint(k) }));
    const byHint = new Map<number, KeyringEntry>();
    for (const e of entries) byHint.set(hintId(e.hint), e);
    this.entries = entries;
    this.byHint.clear();
    for (const [h, e] of byHint) this.byHint.set(h, e);
  }

  /** The key to send with. */
  primary(): KeyringEntry {
    const n = this.entries.length;
    return this.entries[n >= 2 ? n - 2 : 0]!;
  }

  lookup(hint: Uint8Array): KeyringEntry | undefined {
    return this.byHint.get(hintId(hint));
  }

  get size(): number {
    return this.entries.length;
  }
}
