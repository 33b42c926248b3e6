/**
 * The contract of tsswarm's Raft: the values that flow between the pure core
 * (src/manager/raft/core), its storage (src/manager/raft/storage), its transport
 * (src/manager/raft/transport) and its driver (src/manager/raft/node).
 *
 * Terms and indexes are JS numbers: exact up to 2^53, which no cluster reaches.
 * Member IDs are strings: a manager's Raft ID is its node ID.
 */

import type { Rng } from '../../util/rng.js';
import type { Logger } from '../../log/logger.js';

export type NodeId = string;
/** "No node": no vote cast, no leader known. */
export const NO_NODE: NodeId = '';

export enum EntryType {
  Normal = 0,
  /** data holds an encoded ConfChange (see core/conf-change-codec.ts). */
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to Raft. An empty Normal entry is the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** What must be on disk before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The state machine's serialized state as of metadata.index; opaque to Raft. */
  readonly data: Uint8Array;
}

/**
 * Membership changes are made one member at a time (Raft thesis §4.1), so any two majorities
 * of consecutive configurations overlap. A new manager first joins as a learner (it receives
 * the log but does not vote), and is promoted once it has caught up.
 */
export type ConfChangeType = 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** For addLearner: the member's transport address (host:port), so every member learns it. */
  readonly context?: Uint8Array;
}

/**
 * Message types. Append only: the wire format (proto/raft.proto) carries these by number,
 * so existing numbers never change meaning.
 */
export enum MessageType {
  /** Local: start an election (pre-vote first if enabled). */
  Hup = 0,
  /** Local: the leader should send heartbeats now. */
  Beat = 1,
  /** A proposal. Local only: tsswarm forwards writes to the leader above Raft, not inside it. */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  /** Local: the transport could not reach `from`. */
  Unreachable = 10,
  /** Local: the transport finished (reject=false) or failed (reject=true) sending a snapshot to `from`. */
  SnapStatus = 11,
  /** Local: the leader checks that it has heard from a quorum within an election timeout. */
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** App: term of the entry at `index` (the entry before `entries`). Votes: the candidate's last log term. */
  readonly logTerm: number;
  /** App: index of the entry before `entries`. AppResp: the index acknowledged or rejected. Votes: last log index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** AppResp rejection: a hint of where the follower's log may match (fast backtracking). */
  readonly rejectHint: number;
  /** Snap only. */
  readonly snapshot?: Snapshot;
  /** ReadIndex request context; the transfer marker on a Vote caused by TimeoutNow. */
  readonly context?: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * What the core asks its driver to do. The driver's duties, in this order:
 *  1. persist `snapshot` (if any), `entries` and `hardState` (if any); fsync if `mustSync`;
 *  2. only then send `messages`;
 *  3. apply `snapshot` (if any) and then `committedEntries` to the state machine, in order;
 *  4. call advance(ready), and only then ask for the next Ready.
 * Sending before persisting can lose an acknowledged write or let a node vote twice in a term.
 *
 * Three relaxations are safe with this core and the driver (src/manager/raft/node) uses them:
 *  - A leader whose Ready changes neither term nor vote may send its messages while its own
 *    write runs (Raft thesis §10.2.1). A commit index covering those entries can only leave
 *    in a later Ready, which the driver asks for only after this write completed (duty 4).
 *  - `committedEntries` never include entries past what earlier Readies persisted, so without a
 *    snapshot they may be applied before this Ready's write.
 *  - A hard state that only moves `commit` (mustSync false) need not be awaited: a restarted
 *    node re-learns the commit index from the leader.
 */
export interface Ready {
  /** Present when leader or role changed since the last Ready. Not persisted. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed since the last Ready. */
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  /** New entries to append to stable storage. Any stored entry with index >= entries[0].index is replaced. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and then apply. */
  readonly snapshot?: Snapshot;
  /** Entries known committed and not yet handed out for applying; they are already persisted. */
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  /** True when term, vote or entries changed: the write must be fsynced before messages go out. */
  readonly mustSync: boolean;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  /** Heard from within the current election timeout (leader only). */
  readonly recentActive: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly leader: NodeId;
  readonly role: Role;
  readonly confState: ConfState;
  /** Set on the leader while a leadership transfer is under way. */
  readonly leadTransferee: NodeId;
  /** Leader only: replication progress per member, including itself. */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      readonly code: 'RAFT_NOT_LEADER' | 'RAFT_PROPOSAL_DROPPED' | 'RAFT_CONF_CHANGE_IN_PROGRESS';
      /** The leader if known (NO_NODE otherwise), for RAFT_NOT_LEADER. */
      readonly leader: NodeId;
      readonly reason: string;
    };

/**
 * Read-only view of the stable log that the core reads through (etcd's Storage). The driver
 * keeps it up to date: it appends what it has persisted, applies received snapshots, and
 * compacts after taking its own snapshots.
 *
 * Errors: entries()/term() throw TsswarmError STORAGE_COMPACTED for an index at or below the
 * snapshot, and STORAGE_UNAVAILABLE for an index past lastIndex(). Any other throw is fatal.
 */
export interface LogStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if lo < hi, then as many as fit in maxBytes of data. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at index; valid for firstIndex()-1 (the snapshot's term) .. lastIndex(). */
  term(index: number): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** The core's configuration. Defaults and their reasons live in core/config.ts. */
export interface RaftCoreConfig {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized to [e, 2e). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. Must be < electionTick. */
  readonly heartbeatTick: number;
  /** The highest index already applied by the state machine (on restart). 0 for a fresh node. */
  readonly applied: number;
  /** Upper bound of entry data bytes in one App message (batching). */
  readonly maxSizePerMsg: number;
  /** App messages in flight to one follower before waiting for acks (pipelining, flow control). */
  readonly maxInflightMsgs: number;
  /** Bytes of proposed-but-uncommitted entry data the leader accepts before dropping proposals. */
  readonly maxUncommittedEntriesSize: number;
  /** Bytes of committed entries handed out in one Ready. */
  readonly maxCommittedSizePerReady: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly storage: LogStorage;
  readonly rng: Rng;
  readonly logger?: Logger;
}

/**
 * The pure Raft state machine: no I/O, no timers, no promises. Not thread-safe in the sense
 * that calls must not interleave with a Ready being processed other than as documented: the
 * driver may call step/tick/propose while it persists a Ready, but must call advance(rd) for
 * that Ready before asking for the next one.
 */
export interface RaftCore {
  /** One logical clock tick (the driver calls it every tickMs). */
  tick(): void;
  /** Feed a message received from a peer (or a local one). Messages for stale terms are dropped. */
  step(m: Message): void;
  /** Start an election now. */
  campaign(): void;
  /** Append a Normal entry if leader. Returns where it will sit in the log, or why not. */
  propose(data: Uint8Array): ProposeResult;
  /** Append a ConfChange entry if leader and no other change is pending. */
  proposeConfChange(cc: ConfChange): ProposeResult;
  /** Called by the driver when it applies a committed ConfChange entry; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState;
  /** Ask the leader (self) to hand leadership to `to` once it has caught up. */
  transferLeader(to: NodeId): void;
  /** Request a linearizable read; a matching ReadState appears in a later Ready. */
  readIndex(context: Uint8Array): void;
  /**
   * The transport could not reach `id`. On a leader this moves the peer to probing. On a
   * follower whose leader is `id` (its stream broke: the process died or the link failed),
   * this ends the leader's lease early so an election can start within one election timeout
   * instead of two; elections stay safe (votes, terms and log checks are unchanged).
   */
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, ok: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  status(): RaftStatus;
}
