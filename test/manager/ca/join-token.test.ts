import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToBase36 } from '../../../src/manager/ca/base36.js';
import {
  createJoinTokens, formatJoinToken, parseJoinToken, retargetJoinTokens, roleForJoinToken, rootDigest, rotateJoinToken,
  verifyRootAgainstToken, type RootCa,
} from '../../../src/manager/ca/index.js';
import { makeRoot } from './ca-fixtures.js';
import { codeOf } from '../../support/errors.js';

const TOKEN_SHAPE = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

describe('join tokens', () => {
  let root: RootCa;
  let otherRoot: RootCa;
  beforeAll(async () => {
    [root, otherRoot] = await Promise.all([makeRoot(), makeRoot()]);
  });

  it('have Docker\'s shape, and both roles share the digest of the root', () => {
    const tokens = createJoinTokens(root.cert);
    for (const token of [tokens.worker, tokens.manager]) {
      expect(token).toMatch(TOKEN_SHAPE);
      expect(token).toHaveLength('SWMTKN-1-'.length + 50 + 1 + 25);
    }
    expect(parseJoinToken(tokens.worker).digest).toBe(parseJoinToken(tokens.manager).digest);
    expect(parseJoinToken(tokens.worker).secret).not.toBe(parseJoinToken(tokens.manager).secret);
  });

  it('carry the SHA-256 of the root\'s DER in base 36, zero-padded to 50', () => {
    const expected = BigInt(`0x${createHash('sha256').update(root.cert.raw).digest('hex')}`).toString(36).padStart(50, '0');
    expect(rootDigest(root.cert)).toBe(expected);
    expect(rootDigest(root.certPem)).toBe(expected);
  });

  it('grant the role of the secret they carry, and nothing for an unknown secret', () => {
    const tokens = createJoinTokens(root.cert);
    expect(roleForJoinToken(tokens.worker, tokens)).toBe('swarm-worker');
    expect(roleForJoinToken(tokens.manager, tokens)).toBe('swarm-manager');
    expect(roleForJoinToken(`  ${tokens.manager}\n`, tokens)).toBe('swarm-manager');
    const stranger = createJoinTokens(root.cert).worker;
    expect(codeOf(() => roleForJoinToken(stranger, tokens))).toBe('CA_TOKEN_REJECTED');
    // The right secret under another root's digest is stale, not valid.
    const { secret } = parseJoinToken(tokens.manager);
    expect(codeOf(() => roleForJoinToken(formatJoinToken(rootDigest(otherRoot.cert), secret), tokens))).toBe('CA_TOKEN_REJECTED');
  });

  it('rotate one role at a time: the old token of that role stops working', () => {
    const tokens = createJoinTokens(root.cert);
    const rotated = rotateJoinToken(tokens, 'swarm-worker');
    expect(rotated.manager).toBe(tokens.manager);
    expect(rotated.worker).not.toBe(tokens.worker);
    expect(rotated.worker).toMatch(TOKEN_SHAPE);
    expect(codeOf(() => roleForJoinToken(tokens.worker, rotated))).toBe('CA_TOKEN_REJECTED');
    expect(roleForJoinToken(rotated.worker, rotated)).toBe('swarm-worker');
  });

  it('follow a new root with the same secrets', () => {
    const tokens = createJoinTokens(root.cert);
    const moved = retargetJoinTokens(tokens, otherRoot.cert);
    expect(parseJoinToken(moved.worker)).toEqual({ digest: rootDigest(otherRoot.cert), secret: parseJoinToken(tokens.worker).secret });
  });

  it('let a joining node detect a CA that is not the one the token pins', () => {
    const token = createJoinTokens(root.cert).worker;
    expect(verifyRootAgainstToken(token, root.certPem, '10.0.0.1:2377').fingerprint256).toBe(root.cert.fingerprint256);
    expect(codeOf(() => verifyRootAgainstToken(token, otherRoot.certPem, '10.0.0.1:2377'))).toBe('CA_TOKEN_DIGEST_MISMATCH');
    expect(codeOf(() => verifyRootAgainstToken(token, 'garbage', '10.0.0.1:2377'))).toBe('CA_TOKEN_DIGEST_MISMATCH');
  });

  const digest = '0'.repeat(50);
  const secret = '1'.repeat(25);
  const malformed: [string, string][] = [
    ['empty', ''],
    ['wrong prefix', `SWMTKX-1-${digest}-${secret}`],
    ['FIPS version 2', `SWMTKN-2-1-${digest}-${secret}`],
    ['unknown version', `SWMTKN-3-${digest}-${secret}`],
    ['missing secret', `SWMTKN-1-${digest}`],
    ['extra part', `SWMTKN-1-${digest}-${secret}-x`],
    ['short digest', `SWMTKN-1-${digest.slice(1)}-${secret}`],
    ['long secret', `SWMTKN-1-${digest}-${secret}1`],
    ['upper case', `SWMTKN-1-${digest}-${secret.slice(1)}A`],
    ['punctuation', `SWMTKN-1-${digest.slice(1)}_-${secret}`],
    ['digest above 256 bits', `SWMTKN-1-${'z'.repeat(50)}-${secret}`],
    ['secret above 128 bits', `SWMTKN-1-${digest}-${'z'.repeat(25)}`],
  ];
  it.each(malformed)('are refused as malformed: %s', (_name, token) => {
    expect(codeOf(() => parseJoinToken(token))).toBe('CA_TOKEN_INVALID');
  });

  it('accept the largest legal values', () => {
    const maxDigest = ((1n << 256n) - 1n).toString(36);
    const maxSecret = ((1n << 128n) - 1n).toString(36);
    expect(maxDigest).toHaveLength(50);
    expect(maxSecret).toHaveLength(25);
    expect(parseJoinToken(formatJoinToken(maxDigest, maxSecret))).toEqual({ digest: maxDigest, secret: maxSecret });
  });

  it('round-trip any 256-bit digest and 128-bit secret through format and parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (d, s) => {
        const digest = bytesToBase36(d, 50);
        const secret = bytesToBase36(s, 25);
        const token = formatJoinToken(digest, secret);
        expect(token).toMatch(TOKEN_SHAPE);
        expect(parseJoinToken(token)).toEqual({ digest, secret });
        expect(BigInt(`0x${Buffer.from(s).toString('hex')}`).toString(36).padStart(25, '0')).toBe(secret);
      }),
      { numRuns: 500 },
    );
  });
});
