import { X509Certificate } from 'node:crypto';
import { defaultCaConfig, type CaConfig } from './ca-config.js';
import { retargetJoinTokens, type JoinTokens } from './join-token.js';
import type { NodeCertSigner } from './node-certificate.js';
import { createRootCa, crossSign, type RootCa } from './root-ca.js';
import type { TrustBundle } from './trust-bundle.js';

/**
 * The cluster's CA as a manager holds it: one root, or, during `swarm ca --rotate`, the old
 * root, the new root and the new root cross-signed by the old one.
 *
 * Rotation, in the order the daemon drives it:
 *  1. startRotation: make the new root and the cross-signed certificate. From now on the CA
 *     signs with the new key and every node presents [its certificate, cross-signed], and the
 *     trust bundle sent to nodes holds both roots and the cross-signed certificate.
 *  2. Every node re-issues its certificate (needsReissue tells which). Meanwhile:
 *     - a node holding an old-root certificate is verified by everyone, since all trust the
 *       old root;
 *     - a node with a new certificate is verified by nodes that already have the new bundle
 *       (directly by the new root), and, in the TLS handshake, by nodes that still trust only
 *       the old root (through the cross-signed certificate it presents).
 *  3. finishRotation, once no node holds an old certificate: only the new root is trusted,
 *     the cross-signed certificate is no longer sent, and the tokens carry the new digest.
 */
export interface ClusterCa {
  readonly root: RootCa;
  readonly rotation?: {
    readonly newRoot: RootCa;
    /** The new root's name and key, signed by the old root (PEM). */
    readonly crossSignedPem: string;
  };
}

/** Who signs node certificates now. */
export function currentSigner(ca: ClusterCa): NodeCertSigner {
  if (ca.rotation === undefined) return { ca: ca.root, intermediatesPem: [] };
  return { ca: ca.rotation.newRoot, intermediatesPem: [ca.rotation.crossSignedPem] };
}

/** What every node must trust now (sent to nodes in their session, given to TLS). */
export function currentTrust(ca: ClusterCa): TrustBundle {
  if (ca.rotation === undefined) return { roots: [ca.root.cert], intermediates: [] };
  return {
    roots: [ca.root.cert, ca.rotation.newRoot.cert],
    intermediates: [new X509Certificate(ca.rotation.crossSignedPem)],
  };
}

/** Step 1: a new root and its cross-signed certificate. A rotation in progress is restarted. */
export async function startRotation(ca: ClusterCa, now: Date, config: CaConfig = defaultCaConfig): Promise<ClusterCa> {
  const newRoot = await createRootCa(now, config);
  return { root: ca.root, rotation: { newRoot, crossSignedPem: crossSign(newRoot, ca.root) } };
}

/** Step 2: whether a node's certificate was signed by a key other than the current signer's. */
export function needsReissue(ca: ClusterCa, nodeCert: X509Certificate): boolean {
  const signer = currentSigner(ca).ca.cert;
  return !(nodeCert.checkIssued(signer) && nodeCert.verify(signer.publicKey));
}

/** Step 3: the new root alone, and the tokens retargeted to its digest (secrets kept). */
export function finishRotation(ca: ClusterCa, tokens: JoinTokens): { ca: ClusterCa; tokens: JoinTokens } {
  if (ca.rotation === undefined) return { ca, tokens };
  const root = ca.rotation.newRoot;
  return { ca: { root }, tokens: retargetJoinTokens(tokens, root.cert) };
}
