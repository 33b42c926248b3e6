import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { defaultCaConfig } from './ca-config.js';
import { forgePublicKey, signCsr } from './forge-native.js';
import { generateRsaKey, privateKeyToPem } from './rsa-keys.js';

/** What a node keeps (the key) and sends (the CSR) when it asks for a certificate. */
export interface NodeKeyAndCsr {
  readonly key: KeyObject;
  readonly keyPem: string;
  readonly csrPem: string;
}

/**
 * Node side of join and renewal: a fresh RSA key and a PKCS#10 request for it. The subject is
 * a placeholder: the CA ignores it and sets CN/OU/O itself, so a node cannot ask for a role.
 */
export async function createNodeKeyAndCsr(bits: number = defaultCaConfig.nodeKeyBits): Promise<NodeKeyAndCsr> {
  const key = await generateRsaKey(bits);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forgePublicKey(key);
  csr.setSubject([{ shortName: 'CN', value: 'tsswarm-node' }]);
  signCsr(csr, key);
  return { key, keyPem: privateKeyToPem(key), csrPem: forge.pki.certificationRequestToPem(csr) };
}
