import type { ProgressState, ProgressStatus } from '../types.js';
import { Inflights } from './inflights.js';

/**
 * The leader's view of one member's log (Raft §5.3 nextIndex/matchIndex), plus the state that
 * decides how to send to it:
 *  - probe: we do not know where its log matches; send one App per heartbeat and wait;
 *  - replicate: it is in sync; send optimistically (next advances on send) within the window;
 *  - snapshot: a snapshot is on its way; send nothing until it is reported.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Snapshot index being sent (snapshot state). */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  /** Probe state: an App was sent and we wait for its answer or the next heartbeat. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: probe right after it.
    const afterSnapshot = this.state === 'snapshot' ? this.pendingSnapshot + 1 : 0;
    this.resetState('probe');
    this.next = Math.max(this.match + 1, afterSnapshot);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack up to `index` arrived. Returns false if it was stale (nothing new matched). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected the App whose previous index was `rejected`; `matchHint` is where the
   * logs may match. Returns false if the rejection is stale (answers an App sent before the
   * last change of next).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** An App carrying entries up to `lastIndex` (or none, lastIndex = next - 1) was sent. */
  sentEntries(lastIndex: number, hadEntries: boolean): void {
    if (this.state === 'replicate') {
      if (hadEntries) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
    };
  }
}
