import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';
import { bytesToBase36 } from './base36.js';
import type { NodeRole } from './node-identity.js';

/**
 * Join tokens in Docker's form `SWMTKN-1-<digest>-<secret>` (swarmkit ca/config.go):
 * digest = SHA-256 of the root CA certificate's DER in base 36, zero-padded to 50 characters;
 * secret = 128 random bits in base 36, zero-padded to 25 characters. The digest lets a joining
 * node check the CA it is shown; the secret decides the role it gets.
 */
export const TOKEN_PREFIX = 'SWMTKN';
export const TOKEN_VERSION = '1';
export const DIGEST_LENGTH = 50;
export const SECRET_LENGTH = 25;
const SECRET_BYTES = 16;
const BASE36 = /^[0-9a-z]+$/;

export interface ParsedJoinToken {
  readonly digest: string;
  readonly secret: string;
}

/** The two current tokens of a cluster; both share the digest of the current root. */
export interface JoinTokens {
  readonly worker: string;
  readonly manager: string;
}

/** The token digest of a root CA certificate (PEM or parsed). */
export function rootDigest(root: X509Certificate | string): string {
  const cert = typeof root === 'string' ? new X509Certificate(root) : root;
  return bytesToBase36(createHash('sha256').update(cert.raw).digest(), DIGEST_LENGTH);
}

/** A fresh secret from the system CSPRNG (never an injected Rng: this is a credential). */
export function generateTokenSecret(): string {
  return bytesToBase36(randomBytes(SECRET_BYTES), SECRET_LENGTH);
}

export function formatJoinToken(digest: string, secret: string): string {
  return `${TOKEN_PREFIX}-${TOKEN_VERSION}-${digest}-${secret}`;
}

function invalid(problem: string): TsswarmError {
  return new TsswarmError('CA_TOKEN_INVALID', { problem });
}

function checkBase36(part: string, name: string, length: number, maxBits: number): void {
  if (part.length !== length) throw invalid(`the ${name} has ${part.length} characters, not ${length}`);
  if (!BASE36.test(part)) throw invalid(`the ${name} has characters other than 0-9 and a-z`);
  if (parseBase36(part) >> BigInt(maxBits) !== 0n) throw invalid(`the ${name} is larger than ${maxBits} bits`);
}

function parseBase36(text: string): bigint {
  let value = 0n;
  for (const ch of text) value = value * 36n + BigInt(parseInt(ch, 36));
  return value;
}

/** Splits and validates a token; throws CA_TOKEN_INVALID saying exactly what is wrong. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.trim().split('-');
  if (parts[0] !== TOKEN_PREFIX) throw invalid(`it does not start with ${TOKEN_PREFIX}-`);
  if (parts[1] === '2') throw invalid('SWMTKN-2 tokens belong to FIPS clusters, which tsswarm does not support');
  if (parts[1] !== TOKEN_VERSION) throw invalid(`version ${parts[1] ?? '(none)'} is not ${TOKEN_VERSION}`);
  if (parts.length !== 4) throw invalid(`it has ${parts.length} dash-separated parts, not 4`);
  const digest = parts[2] ?? '';
  const secret = parts[3] ?? '';
  checkBase36(digest, 'digest', DIGEST_LENGTH, 256);
  checkBase36(secret, 'secret', SECRET_LENGTH, SECRET_BYTES * 8);
  return { digest, secret };
}

/** New worker and manager tokens for a root (at `init`). */
export function createJoinTokens(root: X509Certificate | string): JoinTokens {
  const digest = rootDigest(root);
  return {
    worker: formatJoinToken(digest, generateTokenSecret()),
    manager: formatJoinToken(digest, generateTokenSecret()),
  };
}

/** `join-token --rotate <role>`: a new secret for one role; the other token is unchanged. */
export function rotateJoinToken(tokens: JoinTokens, role: NodeRole): JoinTokens {
  const which = role === 'swarm-manager' ? 'manager' : 'worker';
  const { digest } = parseJoinToken(tokens[which]);
  return { ...tokens, [which]: formatJoinToken(digest, generateTokenSecret()) };
}

/** After a CA rotation: the same secrets under the digest of the new root. */
export function retargetJoinTokens(tokens: JoinTokens, newRoot: X509Certificate | string): JoinTokens {
  const digest = rootDigest(newRoot);
  return {
    worker: formatJoinToken(digest, parseJoinToken(tokens.worker).secret),
    manager: formatJoinToken(digest, parseJoinToken(tokens.manager).secret),
  };
}

/** Constant-time equality of two parsed token parts (equal lengths, as timingSafeEqual needs). */
function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Manager side of IssueNodeCertificate: the role a presented token grants. Both secrets are
 * always compared, in constant time, so the time taken says nothing about either. Throws
 * CA_TOKEN_INVALID (malformed) or CA_TOKEN_REJECTED (no match, or a stale digest).
 */
export function roleForJoinToken(token: string, tokens: JoinTokens): NodeRole {
  const presented = parseJoinToken(token);
  const worker = parseJoinToken(tokens.worker);
  const manager = parseJoinToken(tokens.manager);
  const isWorker = sameText(presented.secret, worker.secret);
  const isManager = sameText(presented.secret, manager.secret);
  const digestOk = sameText(presented.digest, manager.digest);
  if (digestOk && isManager) return 'swarm-manager';
  if (digestOk && isWorker) return 'swarm-worker';
  throw new TsswarmError('CA_TOKEN_REJECTED');
}

/**
 * Joining-node side: checks the root CA certificate a manager offered (over unverified TLS)
 * against the token's digest before trusting it. Throws CA_TOKEN_DIGEST_MISMATCH.
 */
export function verifyRootAgainstToken(token: string, rootPem: string, addr: string): X509Certificate {
  const { digest } = parseJoinToken(token);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(rootPem);
  } catch {
    throw new TsswarmError('CA_TOKEN_DIGEST_MISMATCH', { addr, expected: digest, actual: '(not a certificate)' });
  }
  const actual = rootDigest(cert);
  if (!sameText(actual, digest)) {
    throw new TsswarmError('CA_TOKEN_DIGEST_MISMATCH', { addr, expected: digest, actual });
  }
  return cert;
}
