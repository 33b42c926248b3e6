import type { Rng } from '../../util/rng.js';

export interface BackoffPolicy {
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly backoffJitter: number;
}

/**
 * ms to wait before reconnect attempt number `failures` (1 = after the first failure):
 * initial x 2^(failures-1), capped, of which the `backoffJitter` fraction is drawn at random.
 * 0 for failures <= 0.
 */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, rng: Rng): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  const base = Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** exponent);
  const fixed = base * (1 - policy.backoffJitter);
  return Math.round(fixed + rng.float() * (base - fixed));
}
