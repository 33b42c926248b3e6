import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import {
  createJoinTokens, currentSigner, currentTrust, finishRotation, needsReissue, parseJoinToken, rootDigest, roleForJoinToken,
  splitPemCertificates, startRotation, verifyPeer, type ClusterCa, type PeerCertificateLike, type TrustBundle,
} from '../../../src/manager/ca/index.js';
import { NOW, leafOnly, makeNode, makeRoot, testConfig, type TestNode } from './ca-fixtures.js';
import { codeOf } from '../../support/errors.js';

/** The detailed PeerCertificate a TLS client sees: the leaf and what the peer sent after it. */
function withChain(node: TestNode): PeerCertificateLike {
  const [leaf, ...rest] = splitPemCertificates(node.chainPem).map((pem) => new X509Certificate(pem));
  let issuer: PeerCertificateLike | undefined;
  for (const cert of rest.reverse()) issuer = { raw: cert.raw, ...(issuer === undefined ? {} : { issuerCertificate: issuer }) };
  return { raw: (leaf as X509Certificate).raw, ...(issuer === undefined ? {} : { issuerCertificate: issuer }) };
}

function check(peer: PeerCertificateLike, trust: TrustBundle): string {
  try {
    return verifyPeer(peer, { trust, clusterId: 'c1', now: NOW, allowedRoles: ['swarm-manager', 'swarm-worker'], removedNodeIds: new Set() }).nodeId;
  } catch (err) {
    return isTsswarmError(err) ? err.code : String(err);
  }
}

describe('CA rotation', () => {
  let before: ClusterCa;
  let during: ClusterCa;
  let oldNode: TestNode;
  let newNode: TestNode;

  beforeAll(async () => {
    before = { root: await makeRoot() };
    oldNode = await makeNode(before, 'c1', 'old', 'swarm-manager');
    during = await startRotation(before, NOW, testConfig);
    newNode = await makeNode(during, 'c1', 'new', 'swarm-worker');
  });

  it('signs with the new key and sends the cross-signed root along', () => {
    const signer = currentSigner(during);
    expect(signer.ca.cert.fingerprint256).not.toBe(before.root.cert.fingerprint256);
    expect(splitPemCertificates(newNode.chainPem)).toHaveLength(2);
    const cross = new X509Certificate(signer.intermediatesPem[0] as string);
    expect(cross.subject).toBe('CN=swarm-ca');
    expect(cross.ca).toBe(true);
    // Same key as the new root, signed by the old one.
    expect(cross.publicKey.export({ type: 'spki', format: 'der' })).toEqual(signer.ca.cert.publicKey.export({ type: 'spki', format: 'der' }));
    expect(cross.verify(before.root.cert.publicKey)).toBe(true);
  });

  it('keeps old and new nodes verifiable by everyone during the transition', () => {
    const transition = currentTrust(during);
    const oldOnly = currentTrust(before);
    expect(check(leafOnly(oldNode), transition)).toBe('old');
    expect(check(leafOnly(newNode), transition)).toBe('new');
    expect(check(leafOnly(oldNode), oldOnly)).toBe('old');
    // A node that trusts only the old root verifies a new node through the cross-signed
    // certificate the new node presents (what a TLS client sees) ...
    expect(check(withChain(newNode), oldOnly)).toBe('new');
    // ... but not from the leaf alone, which is why the daemon pushes the new bundle first.
    expect(check(leafOnly(newNode), oldOnly)).toBe('CA_CERT_INVALID');
  });

  it('builds chains that OpenSSL itself accepts, and only those', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsswarm-ca-'));
    try {
      const file = (name: string, pem: string): string => {
        writeFileSync(join(dir, name), pem);
        return join(dir, name);
      };
      const [newLeaf, cross] = splitPemCertificates(newNode.chainPem) as [string, string];
      const verify = (...args: string[]): boolean => {
        try {
          // -attime: the certificates are dated at the tests' fixed NOW, not the machine's clock.
          execFileSync('openssl', ['verify', '-attime', String(NOW.getTime() / 1000), '-purpose', 'sslclient', ...args], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      };
      const oldRoot = file('old-root.pem', before.root.certPem);
      expect(verify('-CAfile', oldRoot, '-untrusted', file('cross.pem', cross), file('new-leaf.pem', newLeaf))).toBe(true);
      expect(verify('-CAfile', oldRoot, join(dir, 'new-leaf.pem'))).toBe(false);
      expect(verify('-CAfile', file('new-root.pem', currentSigner(during).ca.certPem), join(dir, 'new-leaf.pem'))).toBe(true);
      expect(verify('-CAfile', oldRoot, file('old-leaf.pem', oldNode.certPem))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells which nodes still need a certificate from the new root', () => {
    expect(needsReissue(during, oldNode.cert)).toBe(true);
    expect(needsReissue(during, newNode.cert)).toBe(false);
    expect(needsReissue(before, oldNode.cert)).toBe(false);
  });

  it('ends trusting only the new root, with tokens for its digest', async () => {
    const tokens = createJoinTokens(before.root.cert);
    const done = finishRotation(during, tokens);
    const after = currentTrust(done.ca);
    expect(after.roots).toHaveLength(1);
    expect(after.intermediates).toHaveLength(0);
    const reissued = await makeNode(done.ca, 'c1', 'old', 'swarm-manager');
    expect(check(leafOnly(reissued), after)).toBe('old');
    expect(check(leafOnly(newNode), after)).toBe('new');
    expect(check(leafOnly(oldNode), after)).toBe('CA_CERT_INVALID');
    expect(splitPemCertificates(reissued.chainPem)).toHaveLength(1);
    expect(parseJoinToken(done.tokens.worker).digest).toBe(rootDigest(done.ca.root.cert));
    expect(roleForJoinToken(done.tokens.manager, done.tokens)).toBe('swarm-manager');
    expect(codeOf(() => roleForJoinToken(tokens.manager, done.tokens))).toBe('CA_TOKEN_REJECTED');
  });
});
