import { X509Certificate } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';

/**
 * What a node trusts: the cluster's root(s) and the cross-signed certificates that may sit
 * between a root and a node certificate. Outside a rotation: one root, no intermediates.
 * During a rotation: the old and the new root, and the new root cross-signed by the old one.
 */
export interface TrustBundle {
  readonly roots: readonly X509Certificate[];
  readonly intermediates: readonly X509Certificate[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates in a PEM bundle, each as its own PEM text (carriage returns removed). */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => `${block.replace(/\r/g, '')}\n`);
}

function parseAll(pem: string, what: string): X509Certificate[] {
  return splitPemCertificates(pem).map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TsswarmError('CA_ROOT_INVALID', { problem: `a ${what} certificate does not parse` }, { cause: err });
    }
  });
}

/** A bundle from PEM text; throws CA_ROOT_INVALID if there is no root or a root is no CA. */
export function trustBundleFromPem(rootsPem: string, intermediatesPem = ''): TrustBundle {
  const roots = parseAll(rootsPem, 'root');
  const intermediates = parseAll(intermediatesPem, 'intermediate');
  if (roots.length === 0) throw new TsswarmError('CA_ROOT_INVALID', { problem: 'the bundle has no root certificate' });
  if ([...roots, ...intermediates].some((cert) => !cert.ca)) {
    throw new TsswarmError('CA_ROOT_INVALID', { problem: 'a trusted certificate is not a CA' });
  }
  return { roots, intermediates };
}

/** The roots as one PEM bundle: what TLS is given as its CA list. */
export function rootsPem(bundle: TrustBundle): string {
  return bundle.roots.map((cert) => cert.toString()).join('');
}
