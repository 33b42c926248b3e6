import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GossipKeyManager, KEY_ROTATION_MS } from '../../src/gossip/crypto/key-manager.js';
import { Keyring, keyHint } from '../../src/gossip/crypto/keyring.js';
import { open, seal } from '../../src/gossip/crypto/sealer.js';
import { codeOf } from '../support/errors.js';

const k = (): Uint8Array => new Uint8Array(randomBytes(32));

describe('gossip keyring and sealing', () => {
  it('sends with the only key, then with the second-newest', () => {
    const [a, b, c] = [k(), k(), k()];
    expect(new Keyring([a]).primary().key).toEqual(a);
    expect(new Keyring([a, b]).primary().key).toEqual(a);
    expect(new Keyring([a, b, c]).primary().key).toEqual(b);
  });

  it('opens what any known key sealed, and names the key by its hint', () => {
    const [a, b] = [k(), k()];
    const sender = new Keyring([a, b]);
    const sealed = seal(sender, new Uint8Array([1, 2, 3]));
    expect(sealed.subarray(1, 5)).toEqual(keyHint(a));
    expect(open(new Keyring([a]), sealed)).toEqual({ ok: true, plaintext: new Uint8Array([1, 2, 3]) });
    expect(open(new Keyring([b, a]), sealed).ok).toBe(true);
  });

  it('drops plaintext, unknown keys and tampered frames with distinct reasons', () => {
    const ring = new Keyring([k()]);
    const sealed = seal(ring, new Uint8Array([1, 2, 3]));
    expect(open(ring, new Uint8Array([1, 1, 0, 5, 3, 0, 0, 0, 1]))).toEqual({ ok: false, reason: 'not-encrypted' });
    expect(open(new Keyring([k()]), sealed)).toEqual({ ok: false, reason: 'unknown-key' });
    const tampered = new Uint8Array(sealed);
    tampered[tampered.length - 20]! ^= 1;
    expect(open(ring, tampered)).toEqual({ ok: false, reason: 'decrypt-failed' });
    const hintForged = new Uint8Array(sealed);
    hintForged[0] = 2;
    expect(open(ring, hintForged).ok).toBe(false);
  });

  it('refuses keys of the wrong size and an empty ring, keeping the old keys', () => {
    const a = k();
    const ring = new Keyring([a]);
    expect(codeOf(() => ring.set([new Uint8Array(16)]))).toBe('GOSSIP_INVALID_KEY');
    expect(codeOf(() => ring.set([]))).toBe('GOSSIP_INVALID_KEY');
    expect(ring.primary().key).toEqual(a);
  });
});

describe('gossip key manager', () => {
  it('makes a key, rotates every 12 h and keeps 3, newest last', () => {
    let n = 0;
    const km = new GossipKeyManager({ newKey: () => new Uint8Array(32).fill(++n) }, 0);
    expect(km.keys().map((x) => x.lamport)).toEqual([1]);
    expect(km.tick(KEY_ROTATION_MS - 1)).toBe(false);
    expect(km.tick(KEY_ROTATION_MS)).toBe(true);
    expect(km.tick(2 * KEY_ROTATION_MS)).toBe(true);
    expect(km.tick(3 * KEY_ROTATION_MS)).toBe(true);
    expect(km.keys().map((x) => x.lamport)).toEqual([2, 3, 4]);
    expect(km.keys().map((x) => x.key[0])).toEqual([2, 3, 4]);
  });

  it('continues from keys a previous leader stored, without restarting the 12 h period', () => {
    const stored = [1, 2, 3].map((l) => ({ key: new Uint8Array(32).fill(l), lamport: l, createdAt: l * 1000 }));
    const km = new GossipKeyManager({ newKey: () => new Uint8Array(32).fill(9) }, 50_000, stored);
    expect(km.nextRotationAt()).toBe(3000 + KEY_ROTATION_MS);
    km.rotate(60_000);
    expect(km.keys().map((x) => x.lamport)).toEqual([2, 3, 4]);
  });
});
