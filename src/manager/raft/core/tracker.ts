import type { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';

/**
 * The configuration (voters and learners) and, on a leader, each member's Progress. Also
 * the votes of the current election.
 */
export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly maxInflight: number) {}

  /** Replace the configuration; every member gets a fresh Progress starting at `next`. */
  resetConfig(conf: ConfState, next: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    for (const id of conf.voters) this.addVoter(id, next);
    for (const id of conf.learners) if (!this.voters.has(id)) this.addLearner(id, next);
  }

  addVoter(id: NodeId, next: number): void {
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr === undefined) this.progress.set(id, new Progress(next, this.maxInflight, false));
    else pr.isLearner = false;
  }

  addLearner(id: NodeId, next: number): void {
    this.learners.add(id);
    const pr = new Progress(next, this.maxInflight, true);
    // A new member has told us nothing yet; it counts as active until the next quorum check
    // so that a leader does not refuse to send it a snapshot.
    pr.recentActive = true;
    this.progress.set(id, pr);
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  /** Every member's progress is restarted (a new leader, or a restored snapshot). */
  resetProgress(next: number): void {
    for (const [id, pr] of this.progress) {
      this.progress.set(id, new Progress(next, this.maxInflight, pr.isLearner));
    }
  }
}
