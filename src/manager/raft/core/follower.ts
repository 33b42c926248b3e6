import { MessageType, NO_NODE } from '../types.js';
import type { Message, Snapshot } from '../types.js';
import type { Raft } from './raft.js';

/** Follower: handle one (non-vote) message of the current term or a local one. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      // tsswarm forwards writes above Raft; a proposal that reaches a follower is dropped.
      return;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
    case MessageType.ReadIndex:
      if (r.lead === NO_NODE) return;
      r.msgs.push({ ...m, to: r.lead });
      return;
    case MessageType.TimeoutNow:
      // The leader asked us to take over: campaign at once, without pre-vote (it would fail
      // against voters that still hold the leader's lease).
      r.hup(true);
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, context: m.context ?? new Uint8Array(0) });
      return;
    case MessageType.Unreachable:
      // Our leader's stream broke: end its lease so an election may start within one more
      // election timeout and our vote is free to give. Votes and log checks are unchanged.
      if (m.from === r.lead && r.electionElapsed < r.electionTimeout) r.electionElapsed = r.electionTimeout;
      return;
    default:
      return;
  }
}

/** Pre-candidate and candidate: wait for votes; a leader of our term ends the election. */
export function stepCandidate(r: Raft, m: Message): void {
  const ourResp = r.role === 'preCandidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      return;
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case ourResp:
      r.onVoteResp(m);
      return;
    default:
      return;
  }
}

/** Raft §5.3 AppendEntries receiver. */
function handleAppend(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit index matches the leader's log: say so, and the leader
    // moves on from there.
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ type: MessageType.AppResp, to: m.from, index: lastNew });
    return;
  }
  // Reject, with a hint: the last index at or below m.index whose term is at most m.logTerm.
  // Entries above it cannot match the leader's, so the leader may skip them all.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  r.send({
    type: MessageType.AppResp,
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  });
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  r.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
}

/** Raft §7 InstallSnapshot receiver. */
function handleSnapshot(r: Raft, m: Message): void {
  const snapshot = m.snapshot;
  if (snapshot === undefined) return;
  if (restore(r, snapshot)) {
    r.logger?.info({ index: snapshot.metadata.index, term: snapshot.metadata.term }, 'raft restoring snapshot');
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.lastIndex() });
  } else {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
  }
}

/** Returns false when the snapshot brings nothing new (we already have its entries). */
function restore(r: Raft, snapshot: Snapshot): boolean {
  const { index, term, confState } = snapshot.metadata;
  if (index <= r.log.committed) return false;
  if (r.log.matchTerm(index, term)) {
    // Our log already holds the snapshot's last entry: keep the log, just commit up to it.
    r.log.commitTo(index);
    return false;
  }
  r.log.restore(snapshot);
  r.trk.resetConfig(confState, r.log.lastIndex() + 1);
  return true;
}
