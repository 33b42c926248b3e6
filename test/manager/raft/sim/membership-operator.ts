import type { SimCluster } from './sim-cluster.js';
import type { MembershipStep } from './seed-profile.js';
import { textBytes } from './hash-chain.js';

/**
 * Plays the cluster operator: adds a member the way tsswarm does (start an empty process, add
 * it as a learner, promote it once it has caught up) or removes one. It works only through
 * the current leader and re-proposes until the leader's applied configuration shows the step
 * done, so lost proposals and leader changes are simply retried.
 */
export class MembershipOperator {
  private readonly plan: MembershipStep[];

  constructor(plan: readonly MembershipStep[]) {
    this.plan = [...plan];
  }

  get done(): boolean {
    return this.plan.length === 0;
  }

  act(cluster: SimCluster): void {
    const step = this.plan[0];
    const leader = cluster.leader();
    if (step === undefined || leader === undefined) return;
    const status = leader.core.status();
    const { voters, learners } = status.confState;
    if (step.kind === 'add') {
      if (!cluster.nodes.has(step.id)) cluster.addNode(step.id);
      if (voters.includes(step.id)) {
        this.plan.shift();
      } else if (!learners.includes(step.id)) {
        cluster.proposeConfChange(leader.id, { type: 'addLearner', nodeId: step.id, context: textBytes(`${step.id}:2377`) });
      } else {
        // Promote once the learner is close to the leader's log, as tsswarm does (a far-behind
        // voter stalls commits); now and then promote it early anyway: that must stay safe.
        const progress = status.progress?.get(step.id);
        const caughtUp = progress !== undefined && progress.match + 2 >= status.commit;
        if (caughtUp || cluster.rng.float() < 0.2) {
          cluster.proposeConfChange(leader.id, { type: 'promote', nodeId: step.id });
        }
      }
      return;
    }
    if (voters.includes(step.id) || learners.includes(step.id)) {
      cluster.proposeConfChange(leader.id, { type: 'remove', nodeId: step.id });
    } else {
      this.plan.shift();
    }
  }
}
