import { MessageType } from '../types.js';
import type {
  ConfChange,
  Message,
  ProgressStatus,
  ConfState,
  HardState,
  NodeId,
  ProposeResult,
  RaftCore,
  RaftCoreConfig,
  RaftStatus,
  Ready,
  SoftState,
} from '../types.js';
import { Raft } from './raft.js';
import { flushLeaderWork, hasLeaderWork } from './leader.js';
import { applyConfChange } from './membership.js';
import { propose, proposeConfChange } from './proposals.js';
import { makeMessage } from './messages.js';
import { validateRaftCoreConfig } from './config.js';
import { entrySize } from './entry-size.js';

/**
 * Creates the pure Raft core. Throws CONFIG_INVALID for a bad config and INTERNAL when the
 * storage's state is inconsistent (commit past the log, applied past commit).
 */
export function createRaftCore(config: RaftCoreConfig): RaftCore {
  return new RawNode(new Raft(validateRaftCoreConfig(config)));
}

/** The Ready/advance protocol around the state machine (etcd's RawNode). */
class RawNode implements RaftCore {
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(private readonly r: Raft) {
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  tick(): void {
    this.r.tick();
  }

  step(m: Message): void {
    // Timer-driven types are never taken from the network: only our own ticks produce them.
    if (isTimerDriven(m.type) && m.from !== this.r.id) return;
    this.r.step(m);
  }

  campaign(): void {
    this.r.step(makeMessage({ type: MessageType.Hup, to: this.r.id, from: this.r.id }));
  }

  propose(data: Uint8Array): ProposeResult {
    return propose(this.r, data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return proposeConfChange(this.r, cc);
  }

  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this.r, cc);
  }

  transferLeader(to: NodeId): void {
    this.r.step(makeMessage({ type: MessageType.TransferLeader, to: this.r.id, from: to }));
  }

  readIndex(context: Uint8Array): void {
    this.r.step(makeMessage({ type: MessageType.ReadIndex, to: this.r.id, from: this.r.id, context }));
  }

  reportUnreachable(id: NodeId): void {
    this.r.step(makeMessage({ type: MessageType.Unreachable, to: this.r.id, from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.r.step(makeMessage({ type: MessageType.SnapStatus, to: this.r.id, from: id, reject: !ok }));
  }

  /**
   * Cheap, and changes nothing: a leader's deferred broadcast is only done in ready(), so a
   * driver that asks after every proposal still gets one App per follower for the whole burst.
   * (A Ready that then turns out empty is harmless.)
   */
  hasReady(): boolean {
    const r = this.r;
    if (hasLeaderWork(r)) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.log.unstable.hasNextEntries() || r.log.unstable.hasNextSnapshot()) return true;
    if (r.log.hasNextCommittedEntries()) return true;
    if (r.lead !== this.prevSoft.leader || r.role !== this.prevSoft.role) return true;
    const h = this.prevHard;
    return r.term !== h.term || r.vote !== h.vote || r.log.committed !== h.commit;
  }

  ready(): Ready {
    const r = this.r;
    flushLeaderWork(r);
    const unstable = r.log.unstable;
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged = soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role;
    const hardChanged =
      hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote || hard.commit !== this.prevHard.commit;
    const voteChanged = hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
    const entries = unstable.hasNextEntries() ? unstable.nextEntries() : [];
    const snapshot = unstable.hasNextSnapshot() ? unstable.snapshot : undefined;
    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      readStates: r.readStates,
      entries,
      snapshot,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: voteChanged || entries.length > 0 || snapshot !== undefined,
    };
    unstable.acceptInProgress();
    r.msgs = [];
    r.readStates = [];
    this.prevSoft = soft;
    if (hardChanged) this.prevHard = hard;
    return rd;
  }

  advance(rd: Ready): void {
    const log = this.r.log;
    if (rd.snapshot !== undefined) {
      log.unstable.stableSnapTo(rd.snapshot.metadata.index);
      log.appliedTo(rd.snapshot.metadata.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.unstable.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      log.appliedTo(lastApplied.index);
      if (this.r.role === 'leader' && this.r.uncommittedSize > 0) {
        let size = 0;
        for (const e of rd.committedEntries) size += entrySize(e);
        this.r.uncommittedSize = Math.max(0, this.r.uncommittedSize - size);
      }
    }
  }

  status(): RaftStatus {
    const r = this.r;
    let progress: Map<NodeId, ProgressStatus> | undefined;
    if (r.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of r.trk.progress) progress.set(id, pr.toStatus());
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      leader: r.lead,
      role: r.role,
      confState: r.trk.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }

  private softState(): SoftState {
    return { leader: this.r.lead, role: this.r.role };
  }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
  }
}

function isTimerDriven(t: MessageType): boolean {
  return t === MessageType.Hup || t === MessageType.Beat || t === MessageType.CheckQuorum;
}

