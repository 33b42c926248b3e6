import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Settings of the cluster CA. Times are in milliseconds; key sizes in bits.
 * The defaults follow Docker Swarm (reference/swarm.md §1) except where RSA replaces ECDSA
 * (see README.md for why).
 */
export const caConfigSchema = z.object({
  /**
   * Lifetime of node certificates, ms. Default 90 days (2160 h), as Docker: long enough that a
   * node offline for a few weeks still comes back, short enough that a stolen key soon dies.
   * Minimum 1 h: below that, renewal at 50-80% would keep the CA busy and clock skew would
   * eat the whole window.
   */
  nodeCertLifetimeMs: z.number().int().min(HOUR_MS).default(90 * DAY_MS),
  /**
   * How far notBefore is set in the past, ms. Default 1 h, as Docker: a node whose clock is up
   * to an hour behind the CA's still accepts a certificate issued a moment ago.
   */
  backdateMs: z.number().int().min(0).max(24 * HOUR_MS).default(HOUR_MS),
  /**
   * Lifetime of the root CA certificate, ms. Default 20 years, as Docker: the root changes only
   * through `swarm ca --rotate`, never by expiry.
   */
  rootLifetimeMs: z.number().int().min(DAY_MS).default(20 * 365 * DAY_MS),
  /**
   * RSA modulus of the root key, bits. Default 3072 (about 128-bit security, NIST's size for
   * keys used past 2030): the root lives 20 years and signs rarely, so its cost does not matter.
   */
  rootKeyBits: z.number().int().min(2048).max(8192).default(3072),
  /**
   * RSA modulus of node keys, bits. Default 2048 (112-bit security): the key lives 90 days and
   * makes a signature on every TLS handshake, where 3072 costs about 3x the time.
   */
  nodeKeyBits: z.number().int().min(2048).max(8192).default(2048),
  /**
   * Smallest RSA key the CA accepts in a CSR, bits. Default 2048: smaller keys are factorable
   * within a certificate's lifetime by a well-funded attacker.
   */
  minCsrKeyBits: z.number().int().min(2048).max(8192).default(2048),
});

export type CaConfig = z.output<typeof caConfigSchema>;

/** Validates and fills defaults; throws CONFIG_INVALID naming every bad field. */
export function parseCaConfig(input: unknown): CaConfig {
  return parseConfig('ca', caConfigSchema, input);
}

export const defaultCaConfig: CaConfig = parseCaConfig({});
