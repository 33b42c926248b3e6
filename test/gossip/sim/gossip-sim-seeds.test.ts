/**
 * Seeded chaos runs (see run-seed.ts). Environment:
 *   GOSSIP_SIM_SEEDS=<n>        run n seeds (default 20; ~0.5 s each)
 *   GOSSIP_SIM_FIRST_SEED=<s>   start at seed s (default 1)
 *   GOSSIP_SIM_SEED=<s>         run only seed s and print its actions
 */
import { describe, expect, it } from 'vitest';
import { runSeed } from './run-seed.js';

const env = process.env;
const only = env.GOSSIP_SIM_SEED === undefined ? undefined : Number(env.GOSSIP_SIM_SEED);
const first = Number(env.GOSSIP_SIM_FIRST_SEED ?? 1);
const count = only === undefined ? Number(env.GOSSIP_SIM_SEEDS ?? 20) : 1;
const seeds = only === undefined ? Array.from({ length: count }, (_, i) => first + i) : [only];

describe('gossip simulation: seeded chaos converges', () => {
  it(`${seeds.length} seeds from ${seeds[0]}: live nodes agree on membership and tables after the chaos`, () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = runSeed(seed);
      if (only !== undefined) console.log(r.actions.join('\n'));
      if (!r.ok) failures.push(`seed ${seed} (replay: GOSSIP_SIM_SEED=${seed}): ${r.problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
