import { TsswarmError } from '../../../errors/index.js';

export interface ProposalOutcome {
  readonly index: number;
  readonly term: number;
}

interface Waiter {
  readonly term: number;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (o: ProposalOutcome) => void;
  readonly reject: (e: TsswarmError) => void;
}

/**
 * Proposals appended to the log and not yet applied, by log index. An entry settles its
 * proposal when it is applied: with the proposal's term it is ours (resolve); with another
 * term a new leader overwrote it (RAFT_PROPOSAL_DROPPED). Deadlines are checked on each tick,
 * not with a timer per proposal, which would cost more than the proposal at high rates.
 */
export class PendingProposals {
  // Insertion order is index order: indexes only grow on the leader that registers them.
  private readonly byIndex = new Map<number, Waiter>();

  get size(): number {
    return this.byIndex.size;
  }

  add(index: number, term: number, timeoutMs: number, now: number): Promise<ProposalOutcome> {
    return new Promise<ProposalOutcome>((resolve, reject) => {
      // A new leader may reuse an index that an older proposal of ours was given in an
      // earlier term; that older one can no longer commit.
      this.byIndex.get(index)?.reject(dropped(index, 'a later proposal took its place in the log'));
      this.byIndex.set(index, { term, deadline: now + timeoutMs, timeoutMs, resolve, reject });
    });
  }

  /** The entry at `index` with `term` has been applied. */
  applied(index: number, term: number): void {
    const w = this.byIndex.get(index);
    if (w === undefined) return;
    this.byIndex.delete(index);
    if (w.term === term) w.resolve({ index, term });
    else w.reject(dropped(index, `the entry at index ${index} was committed in term ${term}, not ${w.term}: a new leader overwrote it`));
  }

  /** A snapshot replaced the log up to `index`: whether our entries made it is unknown. */
  coveredBySnapshot(index: number): void {
    for (const [i, w] of this.byIndex) {
      if (i > index) continue;
      this.byIndex.delete(i);
      w.reject(new TsswarmError('RAFT_TIMEOUT', { timeoutMs: w.timeoutMs }));
    }
  }

  expire(now: number): void {
    for (const [i, w] of this.byIndex) {
      if (w.deadline > now) continue;
      this.byIndex.delete(i);
      w.reject(new TsswarmError('RAFT_TIMEOUT', { timeoutMs: w.timeoutMs }));
    }
  }

  failAll(make: () => TsswarmError): void {
    const all = [...this.byIndex.values()];
    this.byIndex.clear();
    for (const w of all) w.reject(make());
  }
}

function dropped(index: number, reason: string): TsswarmError {
  return new TsswarmError('RAFT_PROPOSAL_DROPPED', { reason, index });
}
