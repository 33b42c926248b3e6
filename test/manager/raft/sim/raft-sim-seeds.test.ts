import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED_OPTIONS, formatFailure, runSeed, type SeedOptions, type SeedResult } from './run-seed.js';

/**
 * Randomized, seeded runs of the whole simulated cluster.
 *   RAFT_SIM_SEEDS=<n>       run n seeds (default 2000)
 *   RAFT_SIM_FIRST_SEED=<s>  start at seed s (default 1)
 *   RAFT_SIM_SEED=<s>        replay exactly one seed, printing its trace on failure
 *   RAFT_SIM_TICKS=<t>       chaotic ticks per seed (default 300)
 *   RAFT_SIM_MAX_FAILURES=<k> stop after k failing seeds (default 3)
 *   RAFT_SIM_TRACE=<n>       events printed for a failing seed (default 50)
 */
const env = process.env;
const seedCount = Number(env.RAFT_SIM_SEEDS ?? 2000);
const firstSeed = Number(env.RAFT_SIM_FIRST_SEED ?? 1);
const replaySeed = env.RAFT_SIM_SEED === undefined ? undefined : Number(env.RAFT_SIM_SEED);
const options: SeedOptions = {
  chaosTicks: Number(env.RAFT_SIM_TICKS ?? DEFAULT_SEED_OPTIONS.chaosTicks),
  traceLines: Number(env.RAFT_SIM_TRACE ?? 50),
};
/** Stop after this many failing seeds (RAFT_SIM_MAX_FAILURES): their traces matter, not the count. */
const MAX_FAILURES_REPORTED = Number(env.RAFT_SIM_MAX_FAILURES ?? 3);

function summarize(results: readonly SeedResult[], ms: number): string {
  const sum = (f: (r: SeedResult) => number): number => results.reduce((acc, r) => acc + f(r), 0);
  const maxRecovery = Math.max(0, ...results.map((r) => r.recoveryTicks ?? 0));
  return (
    `${results.length} seeds in ${(ms / 1000).toFixed(1)} s: ${sum((r) => r.steps)} steps, ${sum((r) => r.ticks)} ticks, ` +
    `${sum((r) => r.leaders)} leaders, ${sum((r) => r.stats.proposalsAccepted)} writes accepted, ` +
    `${sum((r) => r.maxApplied)} entries applied (max index), ${sum((r) => r.readsChecked)} reads checked, ` +
    `${sum((r) => r.stats.crashes)} crashes (${sum((r) => r.stats.tornCrashes)} mid-write), ` +
    `${sum((r) => r.stats.snapshotsSent)} snapshots delivered, slowest recovery ${maxRecovery} ticks`
  );
}

describe('raft simulation', () => {
  if (replaySeed !== undefined) {
    it(`seed ${replaySeed} holds every invariant`, () => {
      const started = performance.now();
      const result = runSeed(replaySeed, options);
      const ms = performance.now() - started;
      console.log(result.ok ? `seed ${replaySeed} ok: ${result.profile}; ${summarize([result], ms)}` : formatFailure(result));
      expect(result.ok, result.message).toBe(true);
    });
    return;
  }

  it(
    `${seedCount} random seeds hold every invariant and recover after healing`,
    () => {
      const started = performance.now();
      const results: SeedResult[] = [];
      const failures: SeedResult[] = [];
      for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
        const result = runSeed(seed, options);
        results.push(result);
        if (!result.ok) {
          failures.push(result);
          console.log(failures.length <= 3 ? formatFailure(result) : `seed ${seed}: ${result.message?.split('\n')[0]}`);
          if (failures.length >= MAX_FAILURES_REPORTED) break;
        }
      }
      console.log(summarize(results, performance.now() - started));
      expect(failures.map((f) => `seed ${f.seed}: ${f.message?.split('\n')[0]}`)).toEqual([]);
    },
    Math.max(120_000, seedCount * 500),
  );
});
