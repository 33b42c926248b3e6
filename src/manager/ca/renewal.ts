import type { X509Certificate } from 'node:crypto';
import type { Rng } from '../../util/rng.js';

/**
 * When a node renews its certificate: at a random point between 50% and 80% of the
 * certificate's validity (Docker's policy). The randomness spreads the renewals of nodes
 * joined together, so the CA is not asked by all of them at once; 80% leaves a fifth of the
 * lifetime (18 days of 90) to retry through outages.
 */
export const RENEW_FROM_FRACTION = 0.5;
export const RENEW_TO_FRACTION = 0.8;

export interface Validity {
  /** Epoch milliseconds. */
  readonly notBefore: number;
  /** Epoch milliseconds. */
  readonly notAfter: number;
}

/** Validity of a certificate as epoch milliseconds. */
export function certificateValidity(cert: X509Certificate): Validity {
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/**
 * The wall-clock time (epoch ms) at which to renew, chosen once per certificate. Pure:
 * the same validity and Rng state give the same point.
 */
export function renewalTime(validity: Validity, rng: Rng): number {
  const lifetime = Math.max(0, validity.notAfter - validity.notBefore);
  const fraction = RENEW_FROM_FRACTION + rng.float() * (RENEW_TO_FRACTION - RENEW_FROM_FRACTION);
  return validity.notBefore + Math.floor(lifetime * fraction);
}

/**
 * Whether a certificate must be renewed at `now` (epoch ms), given its chosen renewal time.
 * Also true once it is at or past 80% of its life, so that a renewal time chosen under an
 * earlier certificate, or lost across a restart, never lets a certificate run out.
 */
export function needsRenewal(validity: Validity, renewAt: number, now: number): boolean {
  const latest = validity.notBefore + Math.floor((validity.notAfter - validity.notBefore) * RENEW_TO_FRACTION);
  return now >= Math.min(renewAt, latest);
}

/** Milliseconds from `now` until renewal is due (0 if due already): for the daemon's timer. */
export function msUntilRenewal(validity: Validity, renewAt: number, now: number): number {
  const latest = validity.notBefore + Math.floor((validity.notAfter - validity.notBefore) * RENEW_TO_FRACTION);
  return Math.max(0, Math.min(renewAt, latest) - now);
}
