import type { NodeId } from '../../../../src/manager/raft/types.js';
import type { Rng } from '../../../../src/util/rng.js';
import type { CoreTunables, SnapshotPolicy } from './sim-node.js';

/** A membership change the operator carries out during the chaotic phase. */
export type MembershipStep = { readonly kind: 'add'; readonly id: NodeId } | { readonly kind: 'remove'; readonly id: NodeId };

/** Chances per tick of each kind of outside event. */
export interface ChaosRates {
  readonly propose: number;
  readonly read: number;
  readonly crash: number;
  /** Share of crashes that hit in the middle of persisting a Ready. */
  readonly torn: number;
  readonly restart: number;
  readonly partition: number;
  readonly heal: number;
  readonly weather: number;
  readonly transfer: number;
  readonly membership: number;
  /**
   * Chance that a newly elected leader is struck (crashed or cut off) before its next step:
   * leaders that appended entries nobody else has are what Figure 8 of the paper is made of.
   */
  readonly strikeNewLeader: number;
  /** Freeze a process for a while (GC or VM pause). */
  readonly pause: number;
  /** Chance that a node misses a tick, for the whole run. */
  readonly tickSkip: number;
}

/** Everything a seed decides up front: the cluster, the core's tunables, how rough the run is. */
export interface SeedProfile {
  readonly voters: readonly NodeId[];
  readonly tunables: CoreTunables;
  readonly snapshotPolicy: SnapshotPolicy;
  readonly chaosTicks: number;
  readonly membership: readonly MembershipStep[];
  readonly rates: ChaosRates;
}

function pick<T>(rng: Rng, options: readonly T[]): T {
  return options[rng.int(options.length)]!;
}

export function makeProfile(rng: Rng, chaosTicks: number): SeedProfile {
  const size = rng.float() < 0.6 ? 3 : 5;
  const voters = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const electionTick = 4 + rng.int(7);
  const heartbeatTick = 1 + rng.int(Math.min(3, electionTick - 1));
  const tunables: CoreTunables = {
    electionTick,
    heartbeatTick,
    // Small limits on some seeds so batching, flow control and proposal dropping are exercised.
    maxSizePerMsg: pick(rng, [1, 8, 64, 1024 * 1024]),
    maxInflightMsgs: pick(rng, [1, 2, 4, 256]),
    maxUncommittedEntriesSize: pick(rng, [16, 256, 64 * 1024 * 1024]),
    maxCommittedSizePerReady: pick(rng, [1, 16, 16 * 1024 * 1024]),
    preVote: rng.float() < 0.6,
    checkQuorum: rng.float() < 0.6,
  };
  const snapshotPolicy: SnapshotPolicy =
    rng.float() < 0.2
      ? { chance: 0, minGap: 0, keep: 0 }
      : { chance: pick(rng, [0.05, 0.2, 0.5]), minGap: 1 + rng.int(8), keep: rng.int(4) };
  const membership = planMembership(rng, voters);
  const rough = rng.float();
  const rates: ChaosRates = {
    propose: 0.3 + 0.5 * rng.float(),
    read: 0.05 + 0.1 * rng.float(),
    crash: 0.005 + 0.03 * rough,
    torn: rng.float(),
    restart: 0.03 + 0.1 * rng.float(),
    partition: 0.005 + 0.03 * rough,
    heal: 0.02 + 0.05 * rng.float(),
    weather: 0.01 + 0.03 * rng.float(),
    transfer: 0.002 + 0.01 * rng.float(),
    membership: membership.length > 0 ? 0.05 + 0.1 * rng.float() : 0,
    strikeNewLeader: rng.float() < 0.5 ? 0 : 0.3 * rng.float(),
    pause: rng.float() < 0.5 ? 0 : 0.03 * rng.float(),
    tickSkip: rng.float() < 0.5 ? 0 : 0.2 * rng.float(),
  };
  return { voters, tunables, snapshotPolicy, chaosTicks, membership, rates };
}

/**
 * Up to three membership steps, run in order: adding a fresh member (tsswarm never reuses a
 * node ID) or removing a current one, never going below two voters.
 */
function planMembership(rng: Rng, initial: readonly NodeId[]): MembershipStep[] {
  const plan: MembershipStep[] = [];
  const steps = rng.float() < 0.55 ? 0 : 1 + rng.int(3);
  const members = [...initial];
  let nextId = initial.length + 1;
  for (let i = 0; i < steps; i++) {
    if (members.length > 2 && rng.float() < 0.45) {
      const id = members.splice(rng.int(members.length), 1)[0]!;
      plan.push({ kind: 'remove', id });
    } else {
      const id = `n${nextId++}`;
      members.push(id);
      plan.push({ kind: 'add', id });
    }
  }
  return plan;
}

export function describeProfile(p: SeedProfile): string {
  const t = p.tunables;
  const snap = p.snapshotPolicy.chance > 0 ? `snap(p=${p.snapshotPolicy.chance},gap=${p.snapshotPolicy.minGap},keep=${p.snapshotPolicy.keep})` : 'no-snap';
  const members = p.membership.map((m) => `${m.kind} ${m.id}`).join(', ') || 'fixed membership';
  return (
    `${p.voters.length} voters, election=${t.electionTick} heartbeat=${t.heartbeatTick}, ` +
    `${t.preVote ? 'preVote' : 'no-preVote'}, ${t.checkQuorum ? 'checkQuorum' : 'no-checkQuorum'}, ` +
    `msg=${t.maxSizePerMsg}B inflight=${t.maxInflightMsgs} uncommitted=${t.maxUncommittedEntriesSize}B ` +
    `perReady=${t.maxCommittedSizePerReady}B, ${snap}, ${members}, ${p.chaosTicks} chaotic ticks`
  );
}
