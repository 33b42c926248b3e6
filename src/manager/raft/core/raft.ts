import type { Logger } from '../../../log/logger.js';
import { componentLogger } from '../../../log/logger.js';
import { TsswarmError } from '../../../errors/index.js';
import { EntryType, MessageType, NO_NODE } from '../types.js';
import type { Entry, Message, NodeId, RaftCoreConfig, ReadState, Role } from '../types.js';
import type { Rng } from '../../../util/rng.js';
import { RaftLog } from './raft-log.js';
import { ProgressTracker } from './tracker.js';
import { ReadOnlyQueue } from './read-only.js';
import { voteResult } from './quorum.js';
import { TRANSFER_CONTEXT, isLeaderMessage, isTransferContext, makeMessage, voteRespType } from './messages.js';
import type { MessageFields } from './messages.js';
import { stepLeader } from './leader.js';
import { stepCandidate, stepFollower } from './follower.js';

const EMPTY_DATA = new Uint8Array(0);

/**
 * The Raft state machine proper: terms, roles, elections and the dispatch of messages by role.
 * Replication on the leader lives in leader.ts, the follower's handlers in follower.ts,
 * membership in membership.ts and the Ready/advance protocol in raw-node.ts. Fields are public
 * to those files only; the outside world sees the RaftCore interface.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NO_NODE;
  lead: NodeId = NO_NODE;
  role: Role = 'follower';

  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndex: Message[] = [];

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId = NO_NODE;
  /** Index of the latest ConfChange appended by this leader; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /** Bytes of entry data proposed by this leader and not yet handed out for applying. */
  uncommittedSize = 0;

  // Leader work deferred to the next Ready, so a burst of proposals goes out in one App per
  // follower instead of one per proposal.
  needsBcastAppend = false;
  needsBcastCommit = false;
  needsCommitCheck = false;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly maxSizePerMsg: number;
  readonly maxUncommittedSize: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly rng: Rng;
  readonly logger: Logger | undefined;

  constructor(config: RaftCoreConfig) {
    this.id = config.id;
    this.electionTimeout = config.electionTick;
    this.heartbeatTimeout = config.heartbeatTick;
    this.maxSizePerMsg = config.maxSizePerMsg;
    this.maxUncommittedSize = config.maxUncommittedEntriesSize;
    this.preVote = config.preVote;
    this.checkQuorum = config.checkQuorum;
    this.rng = config.rng;
    this.logger = config.logger === undefined ? undefined : componentLogger(config.logger, 'raft', { raftId: config.id });

    this.log = new RaftLog(config.storage, config.maxCommittedSizePerReady);
    this.trk = new ProgressTracker(config.maxInflightMsgs);
    const { hardState, confState } = config.storage.initialState();
    this.trk.resetConfig(confState, this.log.lastIndex() + 1);
    // A commit below the snapshot is normal (a snapshot was applied before the hard state was
    // written): the snapshot itself is committed. A commit past the log means lost entries.
    if (hardState.commit > this.log.lastIndex()) {
      throw new TsswarmError('INTERNAL', {
        detail: `raft hard state commit ${hardState.commit} is past the last stored index ${this.log.lastIndex()}`,
      });
    }
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.log.commitTo(hardState.commit);
    if (config.applied > 0) {
      if (config.applied > this.log.committed) {
        throw new TsswarmError('INTERNAL', {
          detail: `raft applied index ${config.applied} is past the commit index ${this.log.committed}`,
        });
      }
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, NO_NODE);
  }

  // ---- helpers ------------------------------------------------------------------------

  /** A voter in our configuration: only voters campaign. */
  promotable(): boolean {
    return this.trk.voters.has(this.id);
  }

  /** Queue a message; the term is ours unless the caller set it (vote traffic, local forwards). */
  send(f: MessageFields): void {
    if (f.term === undefined && f.type !== MessageType.ReadIndex && f.type !== MessageType.TransferLeader) {
      f.term = this.term;
    }
    f.from ??= this.id;
    this.msgs.push(makeMessage(f));
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rng.int(this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NO_NODE;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.maybeTerm(this.log.committed) === this.term;
  }

  // ---- role transitions ---------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.votes.clear();
    const last = this.log.lastIndex();
    this.trk.resetProgress(last + 1);
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) self.match = last;
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.reset();
    this.pendingReadIndex = [];
    this.needsBcastAppend = false;
    this.needsBcastCommit = false;
    this.needsCommitCheck = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.setRole('follower');
  }

  private becomePreCandidate(): void {
    // Pre-vote changes neither term nor vote: a node that cannot win leaves no trace.
    this.trk.votes.clear();
    this.lead = NO_NODE;
    this.resetRandomizedElectionTimeout();
    this.setRole('preCandidate');
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.setRole('candidate');
  }

  becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.setRole('leader');
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Any conf change in the log may still be unapplied: the next one waits for all of them.
    this.pendingConfIndex = this.log.lastIndex();
    // Raft §5.4.2/§8: an entry of our own term lets earlier ones commit and tells us the commit index.
    this.appendEntries([{ term: this.term, index: this.log.lastIndex() + 1, type: EntryType.Normal, data: EMPTY_DATA }]);
  }

  private setRole(role: Role): void {
    if (this.role !== role) this.logger?.info({ term: this.term, from: this.role, to: role }, 'raft role changed');
    this.role = role;
  }

  /** Leader: append our own entries and count ourselves as having them. */
  appendEntries(ents: readonly Entry[]): void {
    this.log.append(ents);
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) self.maybeUpdate(this.log.lastIndex());
    this.needsCommitCheck = true;
    this.needsBcastAppend = true;
  }

  // ---- time ---------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.Hup, to: this.id, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.CheckQuorum, to: this.id, from: this.id }));
      // A transfer that has not finished within an election timeout is abandoned.
      if (this.role === 'leader' && this.leadTransferee !== NO_NODE) this.abortLeaderTransfer();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.Beat, to: this.id, from: this.id }));
    }
  }

  // ---- messages -----------------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Leader lease: we heard from a leader within the minimum election timeout, so a
        // disruptive candidate (e.g. one rejoining from a partition) is ignored.
        const inLease = this.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.electionTimeout;
        if (inLease && !isTransferContext(m.context)) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote request never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // Our own pre-vote was granted at the term we would campaign in; nothing to adopt yet.
      } else {
        // Raft §5.1: a higher term makes us a follower of that term.
        this.becomeFollower(m.term, isLeaderMessage(m.type) ? m.from : NO_NODE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (its term passed while it was cut off) learns our term from this and
        // steps down; without it, it would go on believing it leads.
        this.send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        if (this.role === 'leader') stepLeader(this, m);
        else if (this.role === 'follower') stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }

  private handleVoteRequest(m: Message): void {
    // Raft §5.2: one vote per term, first come first served (a repeated request from the node
    // we voted for is granted again: RPCs are idempotent, §5.5). A pre-vote for a future term
    // is granted freely since it binds nothing.
    const canVote =
      this.vote === m.from ||
      (this.vote === NO_NODE && this.lead === NO_NODE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    // Raft §5.4.1: only a candidate whose log is at least as up to date as ours.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: voteRespType(m.type), to: m.from, term: m.term });
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true });
    }
  }

  /** Start an election if we may; `transfer` when asked by the leader (TimeoutNow). */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // Our configuration is the applied one; campaigning with a newer one still unapplied could
    // count the wrong voters.
    if (this.hasUnappliedConfChanges()) return;
    if (this.preVote && !transfer) this.campaign(true, false);
    else this.campaign(false, transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    let lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const hi = this.log.committed + 1;
    while (lo < hi) {
      const ents = this.log.slice(lo, hi, this.maxSizePerMsg);
      for (const e of ents) if (e.type === EntryType.ConfChange) return true;
      lo += ents.length;
    }
    return false;
  }

  private campaign(pre: boolean, transfer: boolean): void {
    let voteType: MessageType;
    let term: number;
    if (pre) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter configuration wins at once.
      if (pre) this.campaign(false, transfer);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.trk.voters) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        context: transfer ? TRANSFER_CONTEXT : undefined,
      });
    }
  }

  /** Record a vote and tally the election. */
  poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.trk.votes.has(from)) this.trk.votes.set(from, granted);
    return voteResult(this.trk.voters, this.trk.votes);
  }

  /** Continue the election after a vote response (candidate and pre-candidate). */
  onVoteResp(m: Message): void {
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign(false, false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NO_NODE);
    }
  }
}
