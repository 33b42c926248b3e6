import type { HardState, NodeId, ReadState, Role } from '../../../../src/manager/raft/types.js';
import type { Chain } from './hash-chain.js';
import type { DiskEntry, SimDisk } from './sim-disk.js';

/** The names a failing seed reports; each maps to one property of the Raft paper (§5.2–5.4, §6.4). */
export type InvariantName =
  | 'election safety'
  | 'log matching'
  | 'leader completeness'
  | 'state machine safety'
  | 'durability'
  | 'applied order'
  | 'read linearizability'
  | 'hard state safety'
  | 'committed prefix agreement'
  | 'proposal contract'
  | 'snapshot consistency'
  | 'liveness'
  | 'core threw';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

/** What the checker needs to know about a node that currently believes it leads. */
export interface LeaderView {
  readonly id: NodeId;
  readonly term: number;
  readonly disk: SimDisk;
}

interface KnownPrefix {
  readonly chain: Chain;
  /** Term of the entry at this index. */
  readonly term: number;
  /**
   * A term by which this prefix was certainly committed: the term of the node that recorded
   * it (a node learns of a commit from a leader of its own term or lower).
   */
  readonly committedBy: number;
  readonly by: string;
}

/**
 * Checks Raft's safety properties incrementally, from observations the simulator makes after
 * every step. It keeps history (who led which term, which prefixes were committed or applied),
 * so a property is checked against everything that ever happened, not only the present.
 *
 * Logs are compared through prefix chains (see hash-chain.ts): equal chains at index i mean
 * equal entries 1..i, so "identical up to it" is one comparison.
 */
export class InvariantChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) -> chain of the log up to that entry, over every entry ever written to any disk. */
  private readonly entryChains = new Map<string, { chain: Chain; by: NodeId }>();
  /** index -> prefix known committed (a disk's commit covers it). */
  private readonly committed = new Map<number, KnownPrefix>();
  /** index -> prefix some state machine applied. */
  private readonly applied = new Map<number, KnownPrefix>();
  /** Per node: the disk commit already folded into `committed`. */
  private readonly recordedCommit = new Map<NodeId, number>();
  /** (index, term) -> data of a proposal the leader accepted there. */
  private readonly proposals = new Map<string, string>();
  private readonly pendingReads = new Map<string, { node: NodeId; minIndex: number }>();

  maxCommitted = 0;
  maxApplied = 0;
  readStatesChecked = 0;

  constructor(private readonly currentLeaders: () => Iterable<LeaderView>) {}

  /** (1) Election safety, and (3) leader completeness when a node is first seen leading a term. */
  observeRole(id: NodeId, term: number, role: Role, disk: SimDisk): void {
    if (role !== 'leader') return;
    const known = this.leaderOfTerm.get(term);
    if (known === id) return;
    if (known !== undefined) {
      throw new InvariantViolation('election safety', `${known} and ${id} both led term ${term}`);
    }
    this.leaderOfTerm.set(term, id);
    // Only what was committed in an earlier term binds this leader: a leader of a higher term
    // may already have committed more by the time a slow election of this term completes.
    let latest = 0;
    for (const [index, prefix] of this.committed) {
      if (prefix.committedBy < term && index > latest) latest = index;
    }
    this.checkLeaderHasCommitted({ id, term, disk }, latest);
  }

  leadersByTerm(): ReadonlyMap<number, NodeId> {
    return this.leaderOfTerm;
  }

  /** A disk write of entries: (2) log matching over every entry ever written anywhere. */
  observeWritten(id: NodeId, written: readonly DiskEntry[]): void {
    for (const { entry, chain } of written) {
      const key = `${entry.index}/${entry.term}`;
      const known = this.entryChains.get(key);
      if (known === undefined) {
        this.entryChains.set(key, { chain, by: id });
      } else if (known.chain !== chain) {
        throw new InvariantViolation(
          'log matching',
          `${id} and ${known.by} both hold an entry at index ${entry.index} term ${entry.term} but their logs differ up to it`,
        );
      }
    }
  }

  /**
   * A hard-state write. A node never goes back in term, never votes for two candidates in one
   * term, and never un-commits; what its disk now covers as committed joins the committed history.
   */
  observeHardState(id: NodeId, before: HardState, after: HardState, disk: SimDisk): void {
    if (after.term < before.term) {
      throw new InvariantViolation('hard state safety', `${id} term went back from ${before.term} to ${after.term}`);
    }
    if (after.term === before.term && before.vote !== '' && after.vote !== before.vote) {
      throw new InvariantViolation(
        'hard state safety',
        `${id} voted for ${before.vote} and then ${after.vote || '(nobody)'} in term ${after.term}`,
      );
    }
    if (after.commit < before.commit) {
      throw new InvariantViolation('hard state safety', `${id} commit went back from ${before.commit} to ${after.commit}`);
    }
    if (after.commit > disk.lastIndex()) {
      throw new InvariantViolation(
        'hard state safety',
        `${id} persisted commit ${after.commit} past its last stored index ${disk.lastIndex()}`,
      );
    }
    this.recordCommitted(id, disk);
  }

  /** A snapshot reached a disk: it stands for a committed prefix. */
  observeSnapshotStored(id: NodeId, nodeTerm: number, disk: SimDisk): void {
    const index = disk.snapshotIndex();
    this.noteCommittedPrefix(index, {
      chain: disk.snapshotChain,
      term: disk.snapshot.metadata.term,
      committedBy: nodeTerm,
      by: `${id} snapshot`,
    });
    this.recordedCommit.set(id, Math.max(this.recordedCommit.get(id) ?? 0, index));
  }

  private recordCommitted(id: NodeId, disk: SimDisk): void {
    const commit = disk.hardState.commit;
    let from = (this.recordedCommit.get(id) ?? 0) + 1;
    from = Math.max(from, disk.snapshotIndex());
    for (let index = from; index <= commit; index++) {
      const chain = disk.chainAt(index);
      const term = disk.termAt(index);
      if (chain === undefined || term === undefined) continue;
      this.noteCommittedPrefix(index, { chain, term, committedBy: disk.hardState.term, by: `${id} commit` });
    }
    if (commit > (this.recordedCommit.get(id) ?? 0)) this.recordedCommit.set(id, commit);
  }

  private noteCommittedPrefix(index: number, prefix: KnownPrefix): void {
    const known = this.committed.get(index);
    if (known !== undefined) {
      if (known.chain !== prefix.chain) {
        throw new InvariantViolation(
          'committed prefix agreement',
          `${known.by} and ${prefix.by} committed different logs up to index ${index}`,
        );
      }
      return;
    }
    this.committed.set(index, prefix);
    const appliedHere = this.applied.get(index);
    if (appliedHere !== undefined && appliedHere.chain !== prefix.chain) {
      throw new InvariantViolation(
        'state machine safety',
        `${appliedHere.by} applied a log up to ${index} that differs from what ${prefix.by} committed`,
      );
    }
    if (index > this.maxCommitted) this.maxCommitted = index;
    // (3) leader completeness for the leaders already in office: they must hold this entry.
    for (const leader of this.currentLeaders()) {
      if (leader.term > prefix.committedBy) this.checkLeaderHasCommitted(leader, index);
    }
  }

  private checkLeaderHasCommitted(leader: LeaderView, index: number): void {
    if (index === 0) return;
    const known = this.committed.get(index);
    if (known === undefined) return;
    const { disk } = leader;
    if (disk.snapshotIndex() > index) return;
    const chain = disk.chainAt(index);
    if (chain !== known.chain) {
      throw new InvariantViolation(
        'leader completeness',
        `${leader.id} leads term ${leader.term} but its log ${chain === undefined ? `ends at ${disk.lastIndex()}` : 'differs'} ` +
          `at index ${index} (entry term ${known.term}), committed by term ${known.committedBy} (${known.by})`,
      );
    }
  }

  observeProposal(index: number, term: number, data: string): void {
    this.proposals.set(`${index}/${term}`, data);
  }

  /**
   * (4) state machine safety and (6) applied order, for one applied entry; (5) durability: an
   * accepted proposal is either lost before commit or applied exactly where the leader said.
   */
  observeApply(id: NodeId, index: number, term: number, data: string, chainAfter: Chain, appliedBefore: number): void {
    if (index !== appliedBefore + 1) {
      throw new InvariantViolation('applied order', `${id} applied index ${index} right after ${appliedBefore}`);
    }
    const proposed = this.proposals.get(`${index}/${term}`);
    if (proposed !== undefined && proposed !== data) {
      throw new InvariantViolation(
        'durability',
        `${id} applied ${JSON.stringify(data)} at ${index}/${term} where the leader accepted ${JSON.stringify(proposed)}`,
      );
    }
    this.notePrefixApplied(id, index, term, chainAfter);
  }

  /** A snapshot applied to a state machine: (6) it moves forward, (4) it matches history. */
  observeSnapshotApplied(id: NodeId, index: number, term: number, chain: Chain, appliedBefore: number): void {
    if (index <= appliedBefore) {
      throw new InvariantViolation('applied order', `${id} applied a snapshot at ${index} while at ${appliedBefore}`);
    }
    this.notePrefixApplied(id, index, term, chain);
  }

  private notePrefixApplied(id: NodeId, index: number, term: number, chain: Chain): void {
    const known = this.applied.get(index);
    if (known !== undefined) {
      if (known.chain !== chain) {
        throw new InvariantViolation('state machine safety', `${id} and ${known.by} applied different entries up to index ${index}`);
      }
    } else {
      this.applied.set(index, { chain, term, committedBy: Number.POSITIVE_INFINITY, by: id });
      if (index > this.maxApplied) this.maxApplied = index;
    }
    const committed = this.committed.get(index);
    if (committed !== undefined && committed.chain !== chain) {
      throw new InvariantViolation(
        'state machine safety',
        `${id} applied a log up to ${index} that differs from what ${committed.by} committed`,
      );
    }
  }

  appliedChainAt(index: number): Chain | undefined {
    return this.applied.get(index)?.chain;
  }

  /** Term of the entry some state machine applied at `index`, if any did. */
  appliedTermAt(index: number): number | undefined {
    return this.applied.get(index)?.term;
  }

  /** (7) A read requested now must not be served below any write already applied somewhere. */
  readRequested(id: NodeId, context: string): void {
    this.pendingReads.set(context, { node: id, minIndex: this.maxApplied });
  }

  observeReadState(id: NodeId, state: ReadState, context: string): void {
    const pending = this.pendingReads.get(context);
    if (pending === undefined) {
      throw new InvariantViolation('read linearizability', `${id} got a read state for unknown context ${JSON.stringify(context)}`);
    }
    if (pending.node !== id) {
      throw new InvariantViolation('read linearizability', `${id} got the read state of ${pending.node}'s request ${context}`);
    }
    if (state.index < pending.minIndex) {
      throw new InvariantViolation(
        'read linearizability',
        `${id}'s read ${context} was answered at index ${state.index}, below index ${pending.minIndex} applied before it was asked`,
      );
    }
    this.readStatesChecked++;
  }
}
