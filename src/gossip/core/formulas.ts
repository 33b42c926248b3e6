/**
 * The protocol's arithmetic as pure functions, each tested with tables
 * (test/gossip/formulas.test.ts).
 */

/** How many times a broadcast is sent before it leaves the queue: mult * ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}

/** The least suspicion timeout in ms: mult * max(1, log10 n) * probe interval. */
export function suspicionMinTimeout(suspicionMult: number, members: number, probeIntervalMs: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  return Math.round(suspicionMult * scale * probeIntervalMs);
}

/**
 * Lifeguard's dynamic suspicion timeout: starts at `max`, and falls logarithmically to `min`
 * as `confirmations` of `expected` independent accusers arrive.
 */
export function suspicionTimeout(confirmations: number, expected: number, minMs: number, maxMs: number): number {
  if (expected < 1 || confirmations >= expected) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1);
  return Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)));
}

/** The push-pull interval grows with log2 of members past 32, so the cluster's TCP load stays flat. */
export function pushPullInterval(baseMs: number, members: number): number {
  const threshold = 32;
  if (members <= threshold) return baseMs;
  const mult = Math.ceil(Math.log2(members) - Math.log2(threshold)) + 1;
  return baseMs * mult;
}

/** Lifeguard: probe interval and timeout are scaled by the local health score + 1. */
export function scaledByAwareness(ms: number, healthScore: number): number {
  return ms * (healthScore + 1);
}
