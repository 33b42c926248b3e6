import { randomBytes } from 'node:crypto';

/**
 * Docker's IDs (swarmkit identity/randomid.go): 128 random bits written in base 36 and
 * zero-padded to 25 characters. Used for node and cluster IDs; they are also the CN and O of
 * node certificates, so they must stay within [a-z0-9].
 */
export function newRandomId(): string {
  const value = BigInt(`0x${randomBytes(16).toString('hex')}`);
  return value.toString(36).padStart(25, '0');
}
