import { X509Certificate, createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { TsswarmError } from '../../errors/index.js';
import { defaultCaConfig, type CaConfig } from './ca-config.js';
import { keyIdentifier, randomSerial, signCertificate, verifyCsrSignature } from './forge-native.js';
import { CA_COMMON_NAME, isValidId, type NodeIdentity } from './node-identity.js';
import type { RootCa } from './root-ca.js';
import { rsaBits } from './rsa-keys.js';

/**
 * What signs node certificates: a root CA, plus the certificates a node must send after its
 * own so that every peer can build a chain (the cross-signed root during a rotation).
 */
export interface NodeCertSigner {
  readonly ca: RootCa;
  /** PEM certificates appended to each issued chain; empty outside a rotation. */
  readonly intermediatesPem: readonly string[];
}

export interface IssuedNodeCertificate {
  /** The node certificate alone. */
  readonly certPem: string;
  /** The certificate followed by the signer's intermediates: what the node presents in TLS. */
  readonly chainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Parses a CSR and returns its public key; throws CA_CSR_INVALID unless it is sound. */
function trustedCsrKey(csrPem: string, minBits: number): forge.pki.PublicKey {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem, true, false);
  } catch (err) {
    // forge parses RSA keys only, so an EC key lands here as well.
    throw new TsswarmError('CA_CSR_INVALID', { problem: 'it is not a PEM PKCS#10 request with an RSA key', minBits }, { cause: err });
  }
  if (!verifyCsrSignature(csr) || csr.publicKey === null) {
    throw new TsswarmError('CA_CSR_INVALID', { problem: 'its sha256WithRSAEncryption self-signature does not verify', minBits });
  }
  const bits = rsaBits(createPublicKey(forge.pki.publicKeyToPem(csr.publicKey)));
  if (bits === undefined || bits < minBits) {
    throw new TsswarmError('CA_CSR_INVALID', { problem: `its key has ${bits ?? 0} bits`, minBits });
  }
  return csr.publicKey;
}

/**
 * Issues a node certificate. Only the CSR's public key is used; the subject comes from
 * `identity` (CN = node ID, OU = role, O = cluster ID), decided by the manager, never by the
 * node. Valid from `now - backdate` to `now + lifetime`, for client and server auth, so the
 * same certificate serves both ends of every 2377 connection.
 */
export function issueNodeCertificate(
  signer: NodeCertSigner,
  csrPem: string,
  identity: NodeIdentity,
  now: Date,
  config: CaConfig = defaultCaConfig,
): IssuedNodeCertificate {
  if (!isValidId(identity.nodeId) || !isValidId(identity.clusterId)) {
    // The manager makes these IDs; a bad one is a bug, not bad input.
    throw new TsswarmError('INTERNAL', { detail: `invalid node or cluster ID ${identity.nodeId}/${identity.clusterId}` });
  }
  const publicKey = trustedCsrKey(csrPem, config.minCsrKeyBits);
  const issuer = forge.pki.certificateFromPem(signer.ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  // X.509 times have whole seconds; round here so the returned dates equal the certificate's.
  const notBefore = new Date(floorToSecond(now.getTime() - config.backdateMs));
  const notAfter = new Date(floorToSecond(now.getTime() + config.nodeCertLifetimeMs));
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([
    { shortName: 'CN', value: identity.nodeId },
    { shortName: 'OU', value: identity.role },
    { shortName: 'O', value: identity.clusterId },
  ]);
  cert.setIssuer(issuer.subject.attributes);
  // DNS SANs as Docker: the role and the node ID for everyone, swarm-ca for managers (the
  // name a joining node may dial the CA by).
  const dnsNames = [identity.role, identity.nodeId];
  if (identity.role === 'swarm-manager') dnsNames.push(CA_COMMON_NAME);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(issuer.publicKey) },
  ]);
  signCertificate(cert, signer.ca.key);
  const certPem = forge.pki.certificateToPem(cert);
  // Read back with OpenSSL: a certificate we cannot parse must never leave the CA.
  new X509Certificate(certPem);
  return { certPem, chainPem: [certPem, ...signer.intermediatesPem].join(''), notBefore, notAfter };
}
