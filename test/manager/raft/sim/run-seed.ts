import { seededRng } from '../../../../src/util/rng.js';
import { ChaosAgent } from './chaos-agent.js';
import { InvariantViolation, type InvariantName } from './invariant-checker.js';
import { auditDurability, awaitProgress, healEverything, livenessBound } from './liveness.js';
import { MembershipOperator } from './membership-operator.js';
import { describeProfile, makeProfile, type SeedProfile } from './seed-profile.js';
import { SimCluster, type ClusterStats } from './sim-cluster.js';

export interface SeedOptions {
  /** Ticks of chaos before healing. */
  readonly chaosTicks: number;
  /** Events printed when the seed fails (default 50). */
  readonly traceLines?: number;
}

export const DEFAULT_SEED_OPTIONS: SeedOptions = { chaosTicks: 300 };

export interface SeedResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly profile: string;
  readonly ticks: number;
  readonly steps: number;
  readonly stats: ClusterStats;
  readonly leaders: number;
  readonly maxApplied: number;
  readonly readsChecked: number;
  /** Ticks from healing until a new write was applied everywhere. */
  readonly recoveryTicks?: number;
  readonly invariant?: InvariantName;
  readonly message?: string;
  readonly trace?: readonly string[];
}

/** The seed's profile, derived from its own stream so that it never depends on the run. */
export function profileForSeed(seed: number, options: SeedOptions = DEFAULT_SEED_OPTIONS): SeedProfile {
  return makeProfile(seededRng(seed ^ 0x7f4a7c15), options.chaosTicks);
}

/**
 * One seeded run: a cluster shaped by the seed's profile goes through `chaosTicks` of chaos,
 * is healed, and must then make progress within the liveness bound. Every step is checked
 * against the invariants; the first violation ends the run and is reported with its trace.
 */
export function runSeed(seed: number, options: SeedOptions = DEFAULT_SEED_OPTIONS): SeedResult {
  const profile = profileForSeed(seed, options);
  const cluster = new SimCluster({
    seed,
    voters: profile.voters,
    tunables: profile.tunables,
    snapshotPolicy: profile.snapshotPolicy,
    traceCapacity: Math.max(60, options.traceLines ?? 50),
  });
  const agent = new ChaosAgent(cluster, profile.rates, new MembershipOperator(profile.membership));
  const summary = (): Omit<SeedResult, 'ok'> => ({
    seed,
    profile: describeProfile(profile),
    ticks: cluster.now,
    steps: cluster.steps,
    stats: cluster.stats,
    leaders: cluster.checker.leadersByTerm().size,
    maxApplied: cluster.checker.maxApplied,
    readsChecked: cluster.checker.readStatesChecked,
  });
  try {
    for (let t = 0; t < profile.chaosTicks; t++) cluster.runTick(agent.actions());
    agent.detach();
    cluster.reactions.length = 0;
    const appliedBeforeHeal = cluster.checker.maxApplied;
    healEverything(cluster);
    const progress = awaitProgress(cluster, livenessBound(profile.tunables.electionTick));
    auditDurability(cluster, appliedBeforeHeal);
    return { ...summary(), ok: true, recoveryTicks: progress.ticks };
  } catch (err) {
    const violation =
      err instanceof InvariantViolation
        ? err
        : new InvariantViolation('core threw', err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err));
    return {
      ...summary(),
      ok: false,
      invariant: violation.invariant,
      message: violation.message,
      trace: cluster.trace.lines(options.traceLines ?? 50),
    };
  }
}

export const SEED_TEST_FILE = 'test/manager/raft/sim/raft-sim-seeds.test.ts';

export function replayCommand(seed: number): string {
  return `RAFT_SIM_SEED=${seed} npx vitest run ${SEED_TEST_FILE}`;
}

export function formatFailure(result: SeedResult): string {
  return [
    `seed ${result.seed} violated ${result.invariant} after ${result.steps} steps (tick ${result.ticks})`,
    `  ${result.message}`,
    `profile: ${result.profile}`,
    `last ${result.trace?.length ?? 0} events:`,
    ...(result.trace ?? []).map((line) => `  ${line}`),
    `replay: ${replayCommand(result.seed)}`,
  ].join('\n');
}
