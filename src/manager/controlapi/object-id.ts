import { randomBytes } from 'node:crypto';

/**
 * Docker's IDs for services and networks: 128 random bits in base 36, 25 characters
 * ([a-z0-9], so usable in names of kernel objects and files).
 */
export function newObjectId(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36).padStart(25, '0');
}
