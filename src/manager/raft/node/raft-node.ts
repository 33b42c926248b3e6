import { TsswarmError, errorMessage, isTsswarmError } from '../../../errors/index.js';
import { componentLogger, type Logger } from '../../../log/logger.js';
import type { RaftNodeOptions, RaftNodeStatus } from './options.js';
import { systemRng } from '../../../util/rng.js';
import { createRaftCore, resolveRaftCoreConfig, type MemoryStorage } from '../core/index.js';
import { decodeConfChange } from '../core/conf-change-codec.js';
import { RaftTransport, type TransportHandler, type WireStatusResponse } from '../transport/index.js';
import {
  EntryType,
  NO_NODE,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftCore,
  type Ready,
  type Role,
  type Snapshot,
} from '../types.js';
import { AppliedWaiters } from './applied-waiters.js';
import { parseRaftNodeConfig, type RaftNodeConfig } from './config.js';
import type { DurableLog } from './durable-log.js';
import { PendingProposals, type ProposalOutcome } from './pending-proposals.js';
import { diskLogOpener } from './open-disk-log.js';
import { decodeSnapshotData, encodeSnapshotData } from './snapshot-envelope.js';
import { loadInitialState } from './initial-state.js';
import { LoopStats } from './loop-stats.js';
import { MemberDirectory } from './member-directory.js';
import { ReadRequests } from './read-requests.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * The Raft driver of one manager. It owns the pure core, the in-memory log in front of the
 * WAL, the WAL itself and the transport, and runs each Ready in the documented order:
 * persist (fsync) -> send -> apply -> advance, one Ready at a time. Steps, ticks and
 * proposals keep arriving while a Ready is persisted, so the next Ready carries everything
 * that came in during the fsync: that is the group commit. Two refinements, both argued in
 * handleReady and both what etcd's server does: a leader sends its appends while its own
 * write runs, and committed entries (already stable) are applied before the Ready's write.
 *
 * Concurrency: all methods are called on the one event loop; the Ready loop is the only
 * place that awaits I/O between core calls.
 */
export class RaftNode {
  private readonly cfg: RaftNodeConfig;
  private readonly log: Logger;
  private readonly members: MemberDirectory;
  private readonly pending = new PendingProposals();
  private readonly appliedWaiters = new AppliedWaiters();
  private readonly reads: ReadRequests;
  private confState: ConfState;
  private applied: number;
  private snapshotIndex: number;
  private leader: NodeId = NO_NODE;
  private role: Role = 'follower';
  private lastLeaderSeen: number;
  private processing = false;
  private loopScheduled = false;
  private loopIdle: Promise<void> = Promise.resolve();
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Term and vote last written to disk (see handleReady). */
  private persistedTerm: number;
  private persistedVote: NodeId;
  private transport!: RaftTransport;
  private readonly stats = new LoopStats();

  private constructor(
    private readonly opts: RaftNodeOptions,
    private readonly core: RaftCore,
    private readonly storage: MemoryStorage,
    private readonly durable: DurableLog,
    init: { applied: number; confState: ConfState; members: ReadonlyMap<NodeId, string> },
  ) {
    this.cfg = parseRaftNodeConfig(opts.config);
    this.log = componentLogger(opts.logger, 'raft-node');
    this.applied = init.applied;
    this.snapshotIndex = init.applied;
    this.confState = init.confState;
    const hs = storage.initialState().hardState;
    this.persistedTerm = hs.term;
    this.persistedVote = hs.vote;
    this.lastLeaderSeen = performance.now();
    this.reads = new ReadRequests(opts.id);
    this.members = new MemberDirectory(opts.id);
    for (const [id, addr] of opts.peerHints ?? []) this.members.set(id, addr);
    for (const [id, addr] of init.members) this.members.set(id, addr);
  }

  /**
   * Opens dataDir, recovers (snapshot + WAL) or bootstraps, binds the transport and starts
   * ticking. Rejects with STORAGE_* if the disk state cannot be read, TRANSPORT_UNREACHABLE
   * if the address cannot be bound, CONFIG_INVALID for bad settings.
   */
  static async start(opts: RaftNodeOptions): Promise<RaftNode> {
    const cfg = parseRaftNodeConfig(opts.config);
    const logger = componentLogger(opts.logger, 'raft-node');
    const { log, recovered } = await (opts.openLog ?? diskLogOpener())(opts.dataDir, opts.logger);
    try {
      const { storage, applied, confState, members } = await loadInitialState(opts.id, recovered, log, opts.stateMachine, opts.initialMembers, logger);
      const core = createRaftCore(
        resolveRaftCoreConfig(
          { id: opts.id, storage, rng: opts.rng ?? systemRng, logger: componentLogger(opts.logger, 'raft-core') },
          { ...opts.coreTunables, electionTick: cfg.electionTick, heartbeatTick: cfg.heartbeatTick, applied },
        ),
      );
      const node = new RaftNode(opts, core, storage, log, { applied, confState, members });
      await node.startTransport();
      node.ticker = setInterval(() => node.onTick(), cfg.tickMs);
      return node;
    } catch (err) {
      await log.close();
      throw err;
    }
  }

  get id(): NodeId {
    return this.opts.id;
  }

  /** The address this node's transport is bound to. */
  get address(): string {
    return this.transport.address;
  }

  private async startTransport(): Promise<void> {
    this.transport = await RaftTransport.start({
      id: this.opts.id,
      listen: this.opts.listen,
      serverCredentials: this.opts.serverCredentials,
      channelCredentials: this.opts.channelCredentials,
      handler: this.transportHandler(),
      logger: componentLogger(this.opts.logger, 'raft-transport'),
      ...(this.opts.transportTuning ? { tuning: this.opts.transportTuning } : {}),
      ...(this.opts.extraServices ? { extraServices: this.opts.extraServices } : {}),
    });
    this.members.set(this.opts.id, this.opts.advertiseAddr ?? this.transport.address);
    this.members.attach(this.transport);
  }

  // ---- proposals ------------------------------------------------------------------------

  /**
   * Replicates `data` and resolves once it is committed AND applied here, with its place in
   * the log. Rejects with RAFT_NOT_LEADER (details: leaderId, leaderAddr), RAFT_NO_QUORUM,
   * RAFT_TIMEOUT, RAFT_PROPOSAL_DROPPED or RAFT_STOPPED. After TIMEOUT or NO_QUORUM the entry
   * may still commit later: the caller cannot tell, so retries must be idempotent.
   * With forward: true a follower sends the write to the leader instead of refusing it; a
   * broken stream to the leader then fails it with TRANSPORT_UNREACHABLE (outcome unknown).
   */
  propose(data: Uint8Array, options: { timeoutMs?: number; forward?: boolean } = {}): Promise<ProposalOutcome> {
    const gate = this.leaderGate();
    if (gate === undefined) return this.track(this.core.propose(data), options.timeoutMs);
    const leaderAddr = gate.details.leaderAddr;
    if (options.forward === true && gate.code === 'RAFT_NOT_LEADER' && typeof leaderAddr === 'string' && leaderAddr !== 'unknown') {
      return this.forward(leaderAddr, data, options.timeoutMs ?? this.cfg.proposalTimeoutMs);
    }
    return Promise.reject(gate);
  }

  /**
   * A follower's write: sent to the leader's Propose stream; resolves once the leader applied
   * it and this node has applied it too (so a caller reads its own write here).
   */
  private async forward(leaderAddr: string, data: Uint8Array, timeoutMs: number): Promise<ProposalOutcome> {
    const deadline = performance.now() + timeoutMs;
    const res = await this.transport.forwardPropose(leaderAddr, data, timeoutMs);
    await this.appliedWaiters.wait(res.index, this.applied, deadline, () => new TsswarmError('RAFT_TIMEOUT', { timeoutMs }));
    return res;
  }

  private track(res: ProposeResult, timeoutMs: number | undefined): Promise<ProposalOutcome> {
    if (!res.ok) {
      if (res.code === 'RAFT_NOT_LEADER') return Promise.reject(this.notLeader(res.leader));
      if (res.code === 'RAFT_CONF_CHANGE_IN_PROGRESS') return Promise.reject(new TsswarmError(res.code, {}));
      return Promise.reject(new TsswarmError('RAFT_PROPOSAL_DROPPED', { reason: res.reason }));
    }
    const p = this.pending.add(res.index, res.term, timeoutMs ?? this.cfg.proposalTimeoutMs, performance.now());
    this.scheduleLoop();
    return p;
  }

  /** Why this node cannot take a write now, or undefined if it is the leader. */
  private leaderGate(): TsswarmError | undefined {
    if (this.stopped) return new TsswarmError('RAFT_STOPPED', {});
    if (this.role === 'leader') return undefined;
    // The core may have won an election whose Ready this driver has not handled yet; it is the
    // authority (its propose() refuses if it is not leader), so do not refuse in that window.
    if (this.core.status().role === 'leader') return undefined;
    if (this.leader === NO_NODE && performance.now() - this.lastLeaderSeen > this.electionTimeoutMs()) {
      return new TsswarmError('RAFT_NO_QUORUM', { voters: this.confState.voters.length });
    }
    return this.notLeader(this.leader);
  }

  private notLeader(leader: NodeId): TsswarmError {
    const leaderAddr = leader === NO_NODE ? '' : (this.members.addr(leader) ?? '');
    return new TsswarmError('RAFT_NOT_LEADER', { nodeId: this.opts.id, leaderId: leader, leaderAddr: leaderAddr || 'unknown' });
  }

  private electionTimeoutMs(): number {
    return this.cfg.electionTick * this.cfg.tickMs;
  }

  /**
   * Linearizable read barrier: resolves with an index once this node has applied everything
   * committed when the call was made, so reading the state machine afterwards is linearizable.
   * Works on followers too (the leader confirms its leadership with a heartbeat round).
   */
  async readIndex(options: { timeoutMs?: number } = {}): Promise<number> {
    if (this.stopped) throw new TsswarmError('RAFT_STOPPED', {});
    const timeoutMs = options.timeoutMs ?? this.cfg.proposalTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    const req = this.reads.start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        req.cancel();
        reject(this.leader === NO_NODE ? new TsswarmError('RAFT_NO_QUORUM', { voters: this.confState.voters.length }) : new TsswarmError('RAFT_TIMEOUT', { timeoutMs }));
      }, timeoutMs);
    });
    this.core.readIndex(req.context);
    this.scheduleLoop();
    const index = await Promise.race([req.index, timedOut]).finally(() => clearTimeout(timer));
    await this.appliedWaiters.wait(index, this.applied, deadline, () => new TsswarmError('RAFT_TIMEOUT', { timeoutMs }));
    return index;
  }

  // ---- membership -----------------------------------------------------------------------

  /**
   * Adds a manager: first as a learner (it receives the log but does not vote), then, once it
   * has caught up, the leader promotes it to voter. Resolves when it is a voter. Leader only.
   */
  async addMember(id: NodeId, addr: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.cfg.proposalTimeoutMs * 4;
    const deadline = performance.now() + timeoutMs;
    if (!this.confState.voters.includes(id) && !this.confState.learners.includes(id)) {
      this.members.set(id, addr);
      await this.proposeConfChange({ type: 'addLearner', nodeId: id, context: utf8.encode(addr) }, timeoutMs);
    }
    while (!this.confState.voters.includes(id)) {
      if (performance.now() > deadline) throw new TsswarmError('RAFT_TIMEOUT', { timeoutMs });
      if (this.stopped) throw new TsswarmError('RAFT_STOPPED', {});
      await new Promise((r) => setTimeout(r, this.cfg.tickMs));
    }
  }

  /** Removes a member (voter or learner). Leader only. */
  async removeMember(id: NodeId, options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.confState.voters.includes(id) && !this.confState.learners.includes(id)) {
      throw new TsswarmError('RAFT_UNKNOWN_MEMBER', { nodeId: id });
    }
    await this.proposeConfChange({ type: 'remove', nodeId: id }, options.timeoutMs ?? this.cfg.proposalTimeoutMs);
  }

  private proposeConfChange(cc: ConfChange, timeoutMs: number): Promise<ProposalOutcome> {
    const gate = this.leaderGate();
    if (gate !== undefined) return Promise.reject(gate);
    return this.track(this.core.proposeConfChange(cc), timeoutMs);
  }

  /** Hands leadership to `to` and resolves once it leads. Leader only; RAFT_TRANSFER_FAILED on timeout. */
  async transferLeadership(to: NodeId, options: { timeoutMs?: number } = {}): Promise<void> {
    const gate = this.leaderGate();
    if (gate !== undefined) throw gate;
    if (!this.confState.voters.includes(to)) throw new TsswarmError('RAFT_UNKNOWN_MEMBER', { nodeId: to });
    if (to === this.opts.id) return;
    const timeoutMs = options.timeoutMs ?? this.electionTimeoutMs() * 2;
    const deadline = performance.now() + timeoutMs;
    this.core.transferLeader(to);
    this.scheduleLoop();
    while (this.leader !== to) {
      if (performance.now() > deadline || this.stopped) {
        throw new TsswarmError('RAFT_TRANSFER_FAILED', { nodeId: to, reason: `no leader change within ${timeoutMs} ms` });
      }
      await new Promise((r) => setTimeout(r, this.cfg.tickMs / 2));
    }
  }

  /** The leader promotes learners that have caught up, one change at a time (on each tick). */
  private promoteCaughtUpLearners(): void {
    if (this.role !== 'leader' || this.confState.learners.length === 0) return;
    const st = this.core.status();
    for (const id of this.confState.learners) {
      const pr = st.progress?.get(id);
      // A learner that has never acknowledged anything (match 0) is not caught up, however
      // young the log: promoting it would raise the quorum before it can vote for anyone.
      if (pr === undefined || pr.match === 0 || pr.match + this.cfg.promoteLagEntries < st.commit) continue;
      const res = this.core.proposeConfChange({ type: 'promote', nodeId: id });
      if (res.ok) {
        this.log.info({ member: id, match: pr.match, commit: st.commit }, 'promoting caught-up learner to voter');
        this.scheduleLoop();
      }
      return;
    }
  }

  // ---- status and lifecycle ---------------------------------------------------------------

  status(): RaftNodeStatus {
    const st = this.core.status();
    const learners = new Set(this.confState.learners);
    return {
      id: this.opts.id,
      role: this.stopped ? 'stopped' : st.role,
      term: st.term,
      leaderId: st.leader,
      leaderAddr: st.leader === NO_NODE ? '' : (this.members.addr(st.leader) ?? ''),
      commit: st.commit,
      applied: this.applied,
      members: [...this.confState.voters, ...this.confState.learners].map((id) => ({
        id,
        addr: this.members.addr(id) ?? '',
        learner: learners.has(id),
      })),
    };
  }

  /** Stops ticking, waits for the Ready in progress, fails what is pending, closes everything. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    await this.loopIdle;
    this.failPending(() => new TsswarmError('RAFT_STOPPED', {}));
    await this.transport.stop();
    await this.durable.close();
  }

  private failPending(make: () => TsswarmError): void {
    this.pending.failAll(make);
    this.appliedWaiters.failAll(make);
  }

  // ---- the Ready loop ---------------------------------------------------------------------

  private onTick(): void {
    if (this.stopped) return;
    this.core.tick();
    const now = performance.now();
    if (this.leader !== NO_NODE) this.lastLeaderSeen = now;
    this.pending.expire(now);
    this.appliedWaiters.expire(now);
    if (this.leader === NO_NODE && now - this.lastLeaderSeen > this.electionTimeoutMs() && this.pending.size > 0) {
      // The leader lost its quorum (check-quorum) or died, and no successor appeared within an
      // election timeout: tell writers now instead of at their deadlines.
      this.pending.failAll(() => new TsswarmError('RAFT_NO_QUORUM', { voters: this.confState.voters.length }));
    }
    this.promoteCaughtUpLearners();
    this.scheduleLoop();
    this.stats.maybeLog(now, this.log);
  }

  /**
   * Runs the loop on the next turn of the event loop, after pending I/O callbacks: everything
   * that arrived in this turn lands in one Ready. setImmediate, not a timer: no added delay.
   */
  private scheduleLoop(): void {
    if (this.loopScheduled || this.processing || this.stopped) return;
    this.loopScheduled = true;
    setImmediate(() => {
      this.loopScheduled = false;
      if (this.processing || this.stopped) return;
      this.processing = true;
      this.loopIdle = this.runLoop().finally(() => {
        this.processing = false;
      });
    });
  }

  private async runLoop(): Promise<void> {
    try {
      while (!this.stopped && this.core.hasReady()) {
        const t0 = performance.now();
        const rd = this.core.ready();
        await this.handleReady(rd);
        this.core.advance(rd);
        this.stats.loop(performance.now() - t0);
      }
    } catch (err) {
      this.fatal(err);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.leader, rd.softState.role);
    // A leader may send its appends while its own disk write runs (Raft thesis §10.2.1, as
    // etcd's driver does): the core counts the leader's own entries as matched at append time,
    // but a commit index covering them can only leave in a later Ready, and Readies are
    // handled one at a time, after this one's write completed. Only when term and vote are
    // unchanged, so no vote or term can be promised before it is on disk.
    const sendEarly = this.role === 'leader' && rd.snapshot === undefined && !this.changesTermOrVote(rd);
    if (sendEarly) this.transport.send(rd.messages);
    // Committed entries are already stable (the core hands out none past the persisted log),
    // so they are applied before this Ready's own write, as etcd's server does: a write is
    // acknowledged as soon as it is committed, not one fsync later. A snapshot keeps the
    // strict order below, since the entries after it must land on the restored state.
    const applyEarly = rd.snapshot === undefined;
    if (applyEarly) this.applyCommitted(rd);
    // 1. Persist: snapshot, then entries and hard state, fsynced when the core says so.
    if (rd.snapshot !== undefined) {
      await this.durable.saveSnapshot(rd.snapshot);
      this.storage.applySnapshot(rd.snapshot);
    }
    if (rd.entries.length > 0 || rd.hardState !== undefined) {
      const save = this.durable.save(rd.hardState, rd.entries, rd.mustSync && this.cfg.fsync);
      if (rd.mustSync || rd.entries.length > 0) {
        const t = performance.now();
        await save;
        this.stats.save(performance.now() - t);
      } else {
        // Only the commit index moved: it need not be durable before anything else (a restart
        // re-learns it from the leader), so do not wait behind an fsync in flight. The log
        // keeps calls in order; a failure stops the node like any storage error.
        save.catch((err: unknown) => this.fatal(err));
      }
      if (rd.hardState !== undefined) {
        this.storage.setHardState(rd.hardState);
        this.persistedTerm = rd.hardState.term;
        this.persistedVote = rd.hardState.vote;
      }
      this.storage.append(rd.entries);
    }
    // 2. Send: only what is on disk may be promised to others.
    if (!sendEarly) this.transport.send(rd.messages);
    // 3. Apply: snapshot first, then committed entries in order.
    if (!applyEarly) this.applyCommitted(rd);
    this.stats.ready(rd.entries.length, rd.committedEntries.length, rd.messages.length);
    if (this.applied - this.snapshotIndex >= this.cfg.snapshotInterval) await this.takeSnapshot();
  }

  private applyCommitted(rd: Ready): void {
    const t = performance.now();
    if (rd.snapshot !== undefined) this.applySnapshot(rd.snapshot);
    for (const e of rd.committedEntries) this.applyEntry(e);
    this.stats.apply(performance.now() - t);
    this.reads.deliver(rd.readStates);
    this.appliedWaiters.advance(this.applied);
  }

  private changesTermOrVote(rd: Ready): boolean {
    const hs = rd.hardState;
    return hs !== undefined && (hs.term !== this.persistedTerm || hs.vote !== this.persistedVote);
  }

  private onSoftState(leader: NodeId, role: Role): void {
    if (leader !== this.leader || role !== this.role) {
      this.log.info({ leader, role, term: this.core.status().term }, 'raft role or leader changed');
    }
    this.leader = leader;
    this.role = role;
    // Either way the clock restarts: a leader is known now, or it was until this moment.
    this.lastLeaderSeen = performance.now();
  }

  private applySnapshot(snap: Snapshot): void {
    const contents = decodeSnapshotData(snap.data);
    this.opts.stateMachine.restore(contents.app);
    for (const [id, addr] of contents.members) this.members.set(id, addr);
    this.confState = snap.metadata.confState;
    this.applied = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
    this.pending.coveredBySnapshot(snap.metadata.index);
    this.log.info({ index: snap.metadata.index, term: snap.metadata.term }, 'applied snapshot from leader');
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.type === EntryType.ConfChange) this.applyConfChange(e);
    else if (e.data.length > 0) this.opts.stateMachine.apply(e.index, e.data);
    this.applied = e.index;
    this.pending.applied(e.index, e.term);
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    this.confState = this.core.applyConfChange(cc);
    if (cc.type === 'addLearner' && cc.context !== undefined && cc.context.length > 0) {
      const addr = fromUtf8.decode(cc.context);
      this.members.set(cc.nodeId, addr);
    } else if (cc.type === 'remove') {
      this.members.remove(cc.nodeId);
      if (cc.nodeId === this.opts.id) {
        this.log.warn({ index: e.index }, 'this node was removed from the cluster; stopping');
        setImmediate(() => void this.stop());
      }
    }
    this.log.info({ change: cc.type, member: cc.nodeId, confState: this.confState }, 'membership changed');
  }

  private async takeSnapshot(): Promise<void> {
    const t0 = performance.now();
    const data = encodeSnapshotData(this.members.all(), this.opts.stateMachine.snapshot());
    const snap = this.storage.createSnapshot(this.applied, this.confState, data);
    await this.durable.saveSnapshot(snap);
    this.snapshotIndex = this.applied;
    const compactTo = this.applied - this.cfg.snapshotKeepEntries;
    if (compactTo > this.storage.firstIndex()) {
      this.storage.compact(compactTo);
      await this.durable.releaseTo(compactTo);
    }
    this.log.debug({ index: snap.metadata.index, bytes: data.length, compactTo, ms: +(performance.now() - t0).toFixed(2) }, 'took snapshot');
  }

  private fatal(err: unknown): void {
    if (this.stopped) return;
    this.log.error({ err: errorMessage(err), code: isTsswarmError(err) ? err.code : undefined }, 'fatal raft error; stopping this node');
    this.stopped = true;
    clearInterval(this.ticker);
    this.failPending(() => new TsswarmError('RAFT_STOPPED', {}, { cause: err }));
    void this.transport.stop();
    void Promise.resolve(this.durable.close()).catch(() => undefined);
    this.opts.onFatal?.(err);
  }

  // ---- transport callbacks ----------------------------------------------------------------

  private transportHandler(): TransportHandler {
    return {
      onMessages: (from: NodeId, messages: Message[]) => {
        if (this.members.wasRemoved(from)) return false;
        if (this.stopped) return true;
        for (const m of messages) this.core.step(m);
        this.scheduleLoop();
        return true;
      },
      onRemoved: (by: NodeId) => {
        if (this.stopped) return;
        this.log.warn({ by }, 'a member reports that this node was removed from the cluster; stopping');
        void this.stop();
      },
      onSnapshot: async (m: Message) => {
        if (this.stopped) throw new TsswarmError('RAFT_STOPPED', {});
        this.core.step(m);
        this.scheduleLoop();
      },
      onPeerStreamBroken: (from: NodeId) => this.reportUnreachable(from),
      onUnreachable: (peer: NodeId) => this.reportUnreachable(peer),
      onSnapshotStatus: (peer: NodeId, ok: boolean) => {
        if (this.stopped) return;
        this.core.reportSnapshot(peer, ok);
        this.scheduleLoop();
      },
      propose: (data: Uint8Array, timeoutMs: number | undefined) => this.propose(data, timeoutMs === undefined ? {} : { timeoutMs }),
      status: (): WireStatusResponse => {
        const s = this.status();
        return { ...s, members: [...s.members] };
      },
    };
  }

  private reportUnreachable(peer: NodeId): void {
    if (this.stopped) return;
    this.core.reportUnreachable(peer);
    this.scheduleLoop();
  }
}

