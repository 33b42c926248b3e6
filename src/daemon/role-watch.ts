import { X509Certificate } from 'node:crypto';
import { certificateValidity, msUntilRenewal, needsRenewal, renewalTime, type Validity } from '../manager/ca/index.js';
import type { Node } from '../objects/index.js';
import type { Rng } from '../util/rng.js';

/**
 * The daemon's pure decisions about its own node's life in the swarm: when to renew its
 * certificate, why a manager may not simply leave, and what a role change asks of it.
 */

/** setTimeout's limit (about 24.8 days): a longer wait is taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RenewalPlan {
  readonly validity: Validity;
  /** Epoch ms chosen once per certificate, in 50-80% of its life. */
  readonly renewAt: number;
}

/** The renewal point of a certificate (PEM chain, leaf first). */
export function planRenewal(certChainPem: string, rng: Rng): RenewalPlan {
  const validity = certificateValidity(new X509Certificate(certChainPem));
  return { validity, renewAt: renewalTime(validity, rng) };
}

/** ms to wait before looking again (0 = renew now), capped at what setTimeout can wait. */
export function renewalDelay(plan: RenewalPlan, now: number): number {
  if (needsRenewal(plan.validity, plan.renewAt, now)) return 0;
  return Math.min(msUntilRenewal(plan.validity, plan.renewAt, now), MAX_TIMER_MS);
}

/** Why `leave` without --force is refused on a manager (Docker's reasons). */
export function leaveRefusal(voters: number): string {
  if (voters <= 1) {
    return 'it is the last manager of the swarm: leaving erases the swarm\'s state for good';
  }
  const quorum = Math.floor(voters / 2) + 1;
  const left = voters - 1;
  return left < quorum
    ? `leaving would leave ${left} of ${voters} managers, fewer than the ${quorum} a quorum needs: the swarm would stop working until it is recovered with \`init --force-new-cluster\``
    : `this node is one of the ${voters} Raft managers; leaving without demoting it first shrinks the managers to ${left}`;
}

/** What the daemon must do about its own Node as the managers see it. */
export type RoleAction = 'none' | 'become-manager' | 'become-worker';

/**
 * A worker whose Node says MANAGER was promoted: it renews its certificate as a manager and
 * joins Raft. A manager whose Node says WORKER and whose Raft member was removed was demoted.
 * (A manager whose Raft still runs keeps serving: the leader removes it from Raft first.)
 */
export function roleAction(node: Pick<Node, 'role'> | undefined, runsManager: boolean, raftStopped: boolean): RoleAction {
  if (node === undefined) return 'none';
  if (!runsManager && node.role === 'MANAGER') return 'become-manager';
  if (runsManager && raftStopped && node.role === 'WORKER') return 'become-worker';
  return 'none';
}
