import { X509Certificate } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';
import { readNodeIdentity, type NodeIdentity, type NodeRole } from './node-identity.js';
import type { TrustBundle } from './trust-bundle.js';

/**
 * The part of node's tls.PeerCertificate this check reads: `raw` (DER) and, in the detailed
 * form a TLS client sees in checkServerIdentity, the chain the peer sent via
 * `issuerCertificate`. grpc-js's `call.getAuthContext().sslPeerCertificate` is the short form
 * (leaf only) and is present only when TLS already verified the peer against the CA list.
 */
export interface PeerCertificateLike {
  readonly raw: Buffer;
  readonly issuerCertificate?: PeerCertificateLike;
}

/** TLS side the peer is on: a client must have clientAuth, a server serverAuth. */
export type PeerPurpose = 'client' | 'server';

const PURPOSE_OID: Record<PeerPurpose, string> = {
  client: '1.3.6.1.5.5.7.3.2',
  server: '1.3.6.1.5.5.7.3.1',
};

export interface PeerPolicy {
  readonly trust: TrustBundle;
  readonly clusterId: string;
  /** Wall-clock time of the check. */
  readonly now: Date;
  /** Roles allowed to make this call. */
  readonly allowedRoles: ReadonlySet<NodeRole> | readonly NodeRole[];
  /** Node IDs removed from the cluster (a Set, or the store's index). */
  readonly removedNodeIds: { has(nodeId: string): boolean };
  readonly purpose?: PeerPurpose;
  /** Named in errors, e.g. 'Control.CreateService'. */
  readonly operation?: string;
}

export interface VerifiedPeer extends NodeIdentity {
  readonly notAfter: Date;
  /** SHA-256 fingerprint, for logs. */
  readonly fingerprint256: string;
}

function within(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

/** True if `parent` (a CA) issued `child`: names and key IDs match and the signature verifies. */
function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** Certificates the peer sent after its own (detailed PeerCertificate form), at most 4. */
function presentedChain(peer: PeerCertificateLike): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<PeerCertificateLike>([peer]);
  for (let next = peer.issuerCertificate; next !== undefined && !seen.has(next) && chain.length < 4; next = next.issuerCertificate) {
    seen.add(next);
    try {
      chain.push(new X509Certificate(next.raw));
    } catch {
      break;
    }
  }
  return chain;
}

/**
 * True if `leaf` chains to a trusted root, directly or through one intermediate (the
 * cross-signed root of a rotation) taken from the bundle or from what the peer sent. With
 * `nowMs`, every CA certificate on the path must be valid then; without, only signatures count.
 */
export function chainsToTrustedRoot(leaf: X509Certificate, trust: TrustBundle, presented: readonly X509Certificate[], nowMs?: number): boolean {
  const current = (cert: X509Certificate): boolean => nowMs === undefined || within(cert, nowMs);
  const roots = trust.roots.filter(current);
  if (roots.some((root) => issuedBy(leaf, root))) return true;
  const middles = [...trust.intermediates, ...presented].filter((mid) => mid.ca && current(mid));
  return middles.some((mid) => issuedBy(leaf, mid) && roots.some((root) => issuedBy(mid, root)));
}

/**
 * The mTLS check of every call on 2377 except the two open CA calls: the peer's certificate
 * must chain to the cluster's root(s), be valid now, be a node certificate of this cluster
 * for the right TLS purpose, not belong to a removed node, and carry an allowed role.
 * Throws CA_PEER_CERT_MISSING, CA_CERT_INVALID, CA_CERT_EXPIRED, CA_CERT_WRONG_CLUSTER,
 * CA_CERT_REMOVED or CA_ROLE_DENIED; returns who the peer is.
 */
export function verifyPeer(peer: PeerCertificateLike | null | undefined, policy: PeerPolicy): VerifiedPeer {
  const operation = policy.operation ?? 'this call';
  if (peer === null || peer === undefined || peer.raw === undefined || peer.raw.length === 0) {
    throw new TsswarmError('CA_PEER_CERT_MISSING', { operation });
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(peer.raw);
  } catch {
    throw new TsswarmError('CA_CERT_INVALID', { subject: 'the peer', problem: 'it does not parse' });
  }
  const subject = leaf.subject.replace(/\n/g, ', ');
  const nowMs = policy.now.getTime();
  if (leaf.ca) throw new TsswarmError('CA_CERT_INVALID', { subject, problem: 'it is a CA certificate, not a node certificate' });
  // Signatures first, then time: a certificate of another CA is reported as untrusted even
  // when it has also expired, and one of ours outside its validity as expired.
  const chain = presentedChain(peer);
  if (!chainsToTrustedRoot(leaf, policy.trust, chain)) {
    throw new TsswarmError('CA_CERT_INVALID', { subject, problem: 'it is not signed by a root of this cluster' });
  }
  if (!within(leaf, nowMs)) {
    throw new TsswarmError('CA_CERT_EXPIRED', { subject, notBefore: leaf.validFrom, notAfter: leaf.validTo, now: policy.now.toISOString() });
  }
  if (!chainsToTrustedRoot(leaf, policy.trust, chain, nowMs)) {
    throw new TsswarmError('CA_CERT_INVALID', { subject, problem: `the root or intermediate that signed it is not valid at ${policy.now.toISOString()}` });
  }
  const purpose = policy.purpose ?? 'client';
  if (!(leaf.keyUsage ?? []).includes(PURPOSE_OID[purpose])) {
    throw new TsswarmError('CA_CERT_INVALID', { subject, problem: `it is not for TLS ${purpose} authentication` });
  }
  const identity = readNodeIdentity(leaf);
  if ('problem' in identity) throw new TsswarmError('CA_CERT_INVALID', { subject, problem: identity.problem });
  if (identity.clusterId !== policy.clusterId) {
    throw new TsswarmError('CA_CERT_WRONG_CLUSTER', { nodeId: identity.nodeId, actual: identity.clusterId, expected: policy.clusterId });
  }
  if (policy.removedNodeIds.has(identity.nodeId)) throw new TsswarmError('CA_CERT_REMOVED', { nodeId: identity.nodeId });
  const allowed = [...policy.allowedRoles];
  if (!allowed.includes(identity.role)) {
    throw new TsswarmError('CA_ROLE_DENIED', { nodeId: identity.nodeId, role: identity.role, operation, allowed: allowed.join(' or ') || 'nobody' });
  }
  return { ...identity, notAfter: new Date(Date.parse(leaf.validTo)), fingerprint256: leaf.fingerprint256 };
}
