import { randomBytes, sign, verify, createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * The seam between node-forge (which knows X.509 and PKCS#10 structures) and node:crypto
 * (which holds the keys and makes the signatures). node-forge alone would sign in pure
 * JavaScript, about 60 ms per certificate with RSA-2048 and 120 ms with 3072 on this machine;
 * OpenSSL does it in 1-3 ms and never sees a key leave a KeyObject.
 */

// Public functions of node-forge that @types/node-forge does not declare.
const pki = forge.pki as typeof forge.pki & {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
  getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
};

/** sha256WithRSAEncryption: the only signature algorithm this CA makes or accepts. */
export const SHA256_WITH_RSA = forge.pki.oids.sha256WithRSAEncryption as string;

function binaryToBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, 'binary');
}

/** Signs `cert` in place with `key` (RSA, SHA-256), as forge's cert.sign would. */
export function signCertificate(cert: forge.pki.Certificate, key: KeyObject): void {
  cert.signatureOid = SHA256_WITH_RSA;
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  cert.tbsCertificate = pki.getTBSCertificate(cert);
  const tbs = binaryToBuffer(forge.asn1.toDer(cert.tbsCertificate).getBytes());
  cert.signature = sign('sha256', tbs, key).toString('binary');
}

/** Signs `csr` in place with `key` (RSA, SHA-256). */
export function signCsr(csr: forge.pki.CertificateSigningRequest, key: KeyObject): void {
  csr.signatureOid = SHA256_WITH_RSA;
  csr.siginfo.algorithmOid = SHA256_WITH_RSA;
  csr.certificationRequestInfo = pki.getCertificationRequestInfo(csr);
  const info = binaryToBuffer(forge.asn1.toDer(csr.certificationRequestInfo).getBytes());
  csr.signature = sign('sha256', info, key).toString('binary');
}

/**
 * Verifies a parsed CSR's self-signature over the bytes it was parsed from (forge keeps the
 * original CertificationRequestInfo), with OpenSSL.
 */
export function verifyCsrSignature(csr: forge.pki.CertificateSigningRequest): boolean {
  if (csr.signatureOid !== SHA256_WITH_RSA || csr.certificationRequestInfo === null || csr.publicKey === null) {
    return false;
  }
  const info = binaryToBuffer(forge.asn1.toDer(csr.certificationRequestInfo).getBytes());
  const pub = createPublicKey(forge.pki.publicKeyToPem(csr.publicKey));
  return verify('sha256', info, pub, binaryToBuffer(csr.signature as string));
}

/** A forge public key (what forge puts in a certificate) from a node:crypto key. */
export function forgePublicKey(key: KeyObject): forge.pki.PublicKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return forge.pki.publicKeyFromPem(pub.export({ type: 'spki', format: 'pem' }).toString());
}

/** The SHA-1 key identifier of RFC 5280 §4.2.1.2 (1), as a binary string for forge. */
export function keyIdentifier(key: forge.pki.PublicKey): string {
  return forge.pki.getPublicKeyFingerprint(key, { type: 'RSAPublicKey', encoding: 'binary' }) as string;
}

/**
 * 128 random bits as a positive serial number in hex (RFC 5280 allows up to 20 octets).
 * Unpredictable serials are what CAs use against chosen-prefix collisions, so this reads the
 * system CSPRNG, not an injected Rng.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  // Clear the top bit so the DER INTEGER is positive without a leading zero byte.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
