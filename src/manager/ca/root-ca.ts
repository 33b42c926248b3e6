import { X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { TsswarmError } from '../../errors/index.js';
import { defaultCaConfig, type CaConfig } from './ca-config.js';
import { forgePublicKey, keyIdentifier, randomSerial, signCertificate } from './forge-native.js';
import { CA_COMMON_NAME } from './node-identity.js';
import { generateRsaKey, privateKeyFromPem, privateKeyToPem } from './rsa-keys.js';

/** A root CA: its certificate and the key that signs node certificates. Never leaves a manager. */
export interface RootCa {
  readonly cert: X509Certificate;
  readonly certPem: string;
  readonly key: KeyObject;
}

/** The stored form of a RootCa (what a manager writes under its state directory). */
export interface StoredRootCa {
  readonly certPem: string;
  readonly keyPem: string;
}

const CA_SUBJECT: forge.pki.CertificateField[] = [{ shortName: 'CN', value: CA_COMMON_NAME }];

interface CaCertSpec {
  readonly subjectKey: KeyObject;
  /** Issuer's subject and key; undefined for a self-signed root. */
  readonly issuer?: { readonly certPem: string; readonly key: KeyObject };
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * A CA certificate with CN swarm-ca. Every root (old and new) has the same subject, as in
 * Docker; the key identifiers (SKID/AKID) are what tell them apart when building a chain.
 * pathLenConstraint 1 leaves room for the cross-signed certificate of a rotation.
 */
function buildCaCertificate(spec: CaCertSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(spec.subjectKey);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(CA_SUBJECT);
  const issuerCert = spec.issuer === undefined ? undefined : forge.pki.certificateFromPem(spec.issuer.certPem);
  cert.setIssuer(issuerCert === undefined ? CA_SUBJECT : issuerCert.subject.attributes);
  const authorityKey = issuerCert === undefined ? cert.publicKey : issuerCert.publicKey;
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 1, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(authorityKey) },
  ]);
  signCertificate(cert, spec.issuer === undefined ? spec.subjectKey : spec.issuer.key);
  return forge.pki.certificateToPem(cert);
}

/**
 * Makes the cluster's root CA at `init` (or the new root of a rotation). `now` is wall-clock
 * time; notBefore is backdated by config.backdateMs like node certificates.
 */
export async function createRootCa(now: Date, config: CaConfig = defaultCaConfig): Promise<RootCa> {
  const key = await generateRsaKey(config.rootKeyBits);
  const certPem = buildCaCertificate({
    subjectKey: key,
    notBefore: new Date(now.getTime() - config.backdateMs),
    notAfter: new Date(now.getTime() + config.rootLifetimeMs),
  });
  return { cert: new X509Certificate(certPem), certPem, key };
}

/**
 * A certificate for `subject`'s key and name, signed by `issuer`: during a CA rotation it lets
 * nodes that trust only the old root verify certificates signed by the new root's key.
 * Its validity is the subject root's, cut to the issuer's.
 */
export function crossSign(subject: RootCa, issuer: RootCa): string {
  const notAfter = Math.min(Date.parse(subject.cert.validTo), Date.parse(issuer.cert.validTo));
  return buildCaCertificate({
    subjectKey: subject.key,
    issuer: { certPem: issuer.certPem, key: issuer.key },
    notBefore: new Date(Date.parse(subject.cert.validFrom)),
    notAfter: new Date(notAfter),
  });
}

export function rootCaToStored(ca: RootCa): StoredRootCa {
  return { certPem: ca.certPem, keyPem: privateKeyToPem(ca.key) };
}

/** Loads a stored root; throws CA_ROOT_INVALID unless it is a self-signed CA with its own key. */
export function rootCaFromStored(stored: StoredRootCa): RootCa {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(stored.certPem);
    key = privateKeyFromPem(stored.keyPem);
  } catch (err) {
    throw new TsswarmError('CA_ROOT_INVALID', { problem: 'the PEM does not parse' }, { cause: err });
  }
  if (!cert.ca) throw new TsswarmError('CA_ROOT_INVALID', { problem: 'the certificate is not a CA' });
  if (!cert.checkIssued(cert) || !cert.verify(cert.publicKey)) {
    throw new TsswarmError('CA_ROOT_INVALID', { problem: 'the certificate is not self-signed' });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TsswarmError('CA_ROOT_INVALID', { problem: 'the key does not belong to the certificate' });
  }
  return { cert, certPem: stored.certPem, key };
}
