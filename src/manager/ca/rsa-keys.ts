import { generateKeyPair, createPrivateKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsa = promisify(generateKeyPair);

/**
 * An RSA key pair made by node:crypto (OpenSSL), not by node-forge: OpenSSL's prime search is
 * native and uses the system's CSPRNG. Async so a 3072-bit root (up to a second) does not
 * block the daemon's event loop.
 */
export async function generateRsaKey(bits: number): Promise<KeyObject> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return privateKey;
}

/** PKCS#8 PEM, the form written to disk. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** Modulus length of an RSA key, or undefined for any other kind of key. */
export function rsaBits(key: KeyObject): number | undefined {
  return key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
}
