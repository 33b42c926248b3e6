/**
 * Injected randomness. Pure cores (Raft, gossip, scheduler) never call Math.random: they take
 * an Rng so a seeded run replays exactly.
 */
export interface Rng {
  /** A uniformly distributed integer in [0, n). n must be a positive integer. */
  int(n: number): number;
  /** A uniformly distributed float in [0, 1). */
  float(): number;
}

/**
 * A small, fast, seeded PRNG (sfc32: a 128-bit state, passes PractRand to 2^40+). Used by the
 * simulators; not for anything that needs secrecy.
 */
export function seededRng(seed: number): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Warm up so that nearby seeds diverge.
  for (let i = 0; i < 16; i++) next();
  return {
    float: next,
    int(n: number): number {
      return Math.floor(next() * n);
    },
  };
}

/** The production Rng: Math.random at the edge, where replay does not matter. */
export const systemRng: Rng = {
  float: () => Math.random(),
  int: (n: number) => Math.floor(Math.random() * n),
};
