import type { NodeId } from '../../../../src/manager/raft/types.js';
import { InvariantViolation } from './invariant-checker.js';
import type { SimCluster } from './sim-cluster.js';
import { CALM } from './sim-network.js';

/**
 * Ends the chaos: no partitions, no loss, no pauses, every process running except members
 * the operator has shut down for good after their removal.
 */
export function healEverything(cluster: SimCluster): void {
  cluster.heal();
  cluster.network.weather = CALM;
  cluster.resumeAll();
  cluster.tickSkipRate = 0;
  cluster.trace.note('heal everything');
  for (const node of cluster.nodes.values()) {
    if (!node.up && !node.decommissioned) cluster.restart(node.id);
  }
}

/**
 * The liveness bound after healing, in ticks: a few elections' worth of randomized timeouts
 * ([e, 2e) each, plus pre-vote rounds and split votes) and slack for catching up by snapshot.
 */
export function livenessBound(electionTick: number): number {
  return 10 * 2 * electionTick + 60;
}

export interface ProgressResult {
  readonly leader: NodeId;
  readonly index: number;
  readonly ticks: number;
}

/**
 * Requires that, within `maxTicks`, a leader is elected and a new write is committed and
 * applied on every member of the leader's configuration. The write is proposed again to each
 * new leader, since a deposed leader's uncommitted entry may never commit.
 */
export function awaitProgress(cluster: SimCluster, maxTicks: number, text = 'final'): ProgressResult {
  const proposals: { index: number; term: number }[] = [];
  let lastTerm = -1;
  const start = cluster.now;
  let result: ProgressResult | undefined;
  const committedEverywhere = (): boolean => {
    const leader = cluster.leader();
    if (leader === undefined) return false;
    const { voters, learners } = leader.core.status().confState;
    for (const p of proposals) {
      if (cluster.checker.appliedTermAt(p.index) !== p.term) continue;
      const everywhere = [...voters, ...learners].every((id) => {
        const node = cluster.nodes.get(id);
        return node !== undefined && node.up && node.applied >= p.index;
      });
      if (everywhere) {
        result = { leader: leader.id, index: p.index, ticks: cluster.now - start };
        return true;
      }
    }
    return false;
  };
  const proposeToNewLeader = (): void => {
    const leader = cluster.leader();
    if (leader === undefined) return;
    const term = leader.core.status().term;
    if (term === lastTerm) return;
    const r = cluster.propose(leader.id, `${text}@${term}`);
    if (r.ok) {
      lastTerm = term;
      proposals.push({ index: r.index, term: r.term });
    }
  };
  const ok = cluster.runUntil(committedEverywhere, maxTicks, () => [proposeToNewLeader]);
  if (!ok || result === undefined) {
    const leader = cluster.leader();
    const states = [...cluster.nodes.values()]
      .map((n) => (n.up ? `${n.id}:${n.core.status().role}/T${n.core.status().term}/applied ${n.applied}` : `${n.id}:down`))
      .join(' ');
    throw new InvariantViolation(
      'liveness',
      `no write was committed on every member within ${maxTicks} ticks of healing ` +
        `(leader ${leader?.id ?? 'none'}, proposals ${JSON.stringify(proposals)}; ${states})`,
    );
  }
  return result;
}

/**
 * (5) Durability, stated directly: every write applied anywhere before healing (so committed
 * and possibly acknowledged to its client) is part of what every member has now applied, in
 * the same place: each member's applied prefix extends past it and matches history exactly.
 */
export function auditDurability(cluster: SimCluster, appliedBeforeHeal: number): void {
  const leader = cluster.leader();
  if (leader === undefined) return;
  const { voters, learners } = leader.core.status().confState;
  for (const id of [...voters, ...learners]) {
    const node = cluster.node(id);
    if (node.applied < appliedBeforeHeal) {
      throw new InvariantViolation('durability', `${id} applied only up to ${node.applied}, below ${appliedBeforeHeal} applied before healing`);
    }
    if (cluster.checker.appliedChainAt(node.applied) !== node.appliedChain) {
      throw new InvariantViolation('durability', `${id}'s state machine at ${node.applied} differs from what was applied there before`);
    }
  }
}
