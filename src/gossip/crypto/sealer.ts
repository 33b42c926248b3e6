/**
 * Seals and opens packets and stream frames with AES-256-GCM (node:crypto):
 * [SEAL_VERSION][key hint, 4][nonce, 12][ciphertext][tag, 16]. The version byte and the hint
 * are authenticated as associated data. Anything else is dropped with a reason the driver
 * counts: not-encrypted (no sealed header), unknown-key, or decrypt-failed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SEAL_OVERHEAD, SEAL_VERSION } from '../wire/limits.js';
import { KEY_HINT_BYTES, type Keyring } from './keyring.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = 1 + KEY_HINT_BYTES;

export type DropReason = 'not-encrypted' | 'unknown-key' | 'decrypt-failed';
export type Opened = { ok: true; plaintext: Uint8Array } | { ok: false; reason: DropReason };

export function seal(keyring: Keyring, plaintext: Uint8Array): Uint8Array {
  const { key, hint } = keyring.primary();
  const nonce = randomBytes(NONCE_BYTES);
  const header = new Uint8Array(HEADER);
  header[0] = SEAL_VERSION;
  header.set(hint, 1);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const out = new Uint8Array(plaintext.length + SEAL_OVERHEAD);
  out.set(header, 0);
  out.set(nonce, HEADER);
  out.set(body, HEADER + NONCE_BYTES);
  out.set(cipher.getAuthTag(), HEADER + NONCE_BYTES + body.length);
  return out;
}

export function open(keyring: Keyring, sealed: Uint8Array): Opened {
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== SEAL_VERSION) return { ok: false, reason: 'not-encrypted' };
  const entry = keyring.lookup(sealed.subarray(1, HEADER));
  if (entry === undefined) return { ok: false, reason: 'unknown-key' };
  const nonce = sealed.subarray(HEADER, HEADER + NONCE_BYTES);
  const body = sealed.subarray(HEADER + NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', entry.key, nonce);
    decipher.setAAD(sealed.subarray(0, HEADER));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    return { ok: true, plaintext: new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength) };
  } catch {
    return { ok: false, reason: 'decrypt-failed' };
  }
}
