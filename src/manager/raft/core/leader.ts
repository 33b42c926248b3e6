import { isTsswarmError } from '../../../errors/index.js';
import { MessageType, NO_NODE } from '../types.js';
import type { Entry, Message, NodeId } from '../types.js';
import type { Raft } from './raft.js';
import type { Progress } from './progress.js';
import type { PendingRead } from './read-only.js';
import { committedIndex, quorumActive } from './quorum.js';
import { NO_ENTRIES } from './messages.js';

/** Leader: handle one (non-vote) message of the current term or a local one. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r, r.readOnly.lastPendingContext());
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
    case MessageType.Prop:
      // Proposals enter through propose(); a Prop message from outside is not ours to take.
      return;
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return; // not a member (any more)
  switch (m.type) {
    case MessageType.AppResp:
      handleAppResp(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResp(r, m, pr);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== 'snapshot') return;
      // Either way, wait for the next heartbeat's answer before probing again.
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      pr.probeSent = true;
      return;
    case MessageType.Unreachable:
      // Whatever was in flight may be lost: find out where the follower is.
      if (pr.state === 'replicate') pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m.from, pr);
      return;
    default:
      return;
  }
}

function checkQuorum(r: Raft): void {
  const active = quorumActive(r.trk.voters, (id) => id === r.id || r.trk.progress.get(id)?.recentActive === true);
  if (!active) {
    r.logger?.warn({ term: r.term }, 'raft leader lost contact with a quorum; stepping down');
    r.becomeFollower(r.term, NO_NODE);
    return;
  }
  for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
}

// ---- replication --------------------------------------------------------------------------

/**
 * Send `to` the entries after its next index (one App, up to maxSizePerMsg of data), or a
 * snapshot if they are compacted. Returns whether a message was sent.
 */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  if (prevIndex < r.log.firstIndex() - 1) return sendSnapshot(r, to, pr);
  const prevTerm = r.log.maybeTerm(prevIndex);
  if (prevTerm === undefined) return false;
  const last = r.log.lastIndex();
  let entries: readonly Entry[] = NO_ENTRIES;
  if (pr.next <= last) {
    try {
      entries = r.log.slice(pr.next, last + 1, r.maxSizePerMsg);
    } catch (err) {
      // Compacted between the check above and the read (storage is the driver's).
      if (isTsswarmError(err, 'STORAGE_COMPACTED')) return sendSnapshot(r, to, pr);
      throw err;
    }
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: MessageType.App,
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: r.log.committed,
  });
  const sentLast = entries.length > 0 ? entries[entries.length - 1]!.index : prevIndex;
  pr.sentEntries(sentLast, entries.length > 0);
  return true;
}

/** Send as much as the flow-control window allows (pipelining in replicate state). */
function sendAppendAll(r: Raft, to: NodeId, sendIfEmpty: boolean, pr: Progress): void {
  if (!sendAppend(r, to, sendIfEmpty)) return;
  if (pr.state !== 'replicate') return;
  while (sendAppend(r, to, false)) {
    // keep filling the window
  }
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // A follower we have not heard from may be gone; a snapshot is too costly to send blindly.
  if (!pr.recentActive) return false;
  const snapshot = r.log.storage.snapshot();
  if (snapshot.metadata.index === 0) return false;
  pr.becomeSnapshot(snapshot.metadata.index);
  r.send({ type: MessageType.Snap, to, snapshot });
  return true;
}

export function bcastAppend(r: Raft, sendIfEmpty: boolean): void {
  for (const [id, pr] of r.trk.progress) {
    if (id !== r.id) sendAppendAll(r, id, sendIfEmpty, pr);
  }
}

function bcastHeartbeat(r: Raft, context: Uint8Array | undefined): void {
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    // Never tell a follower to commit past what it is known to have: its log beyond match
    // may still differ from ours.
    r.send({ type: MessageType.Heartbeat, to: id, commit: Math.min(pr.match, r.log.committed), context });
  }
}

/**
 * Raft §5.3/§5.4.2: commit the highest index a majority of voters have, but only if it is of
 * the current term (earlier-term entries commit indirectly with it).
 */
export function maybeCommit(r: Raft): boolean {
  const mci = committedIndex(r.trk.voters, (id) => r.trk.progress.get(id)?.match ?? 0);
  if (mci <= r.log.committed) return false;
  if (r.log.maybeTerm(mci) !== r.term) return false;
  r.log.commitTo(mci);
  if (r.pendingReadIndex.length > 0) {
    const waiting = r.pendingReadIndex;
    r.pendingReadIndex = [];
    for (const m of waiting) handleReadIndex(r, m);
  }
  return true;
}

/** Work deferred to Ready time: one commit check and one broadcast for a burst of events. */
export function flushLeaderWork(r: Raft): void {
  if (r.role !== 'leader') return;
  if (r.needsCommitCheck) {
    r.needsCommitCheck = false;
    if (maybeCommit(r)) r.needsBcastCommit = true;
  }
  if (r.needsBcastCommit) {
    bcastAppend(r, true);
  } else if (r.needsBcastAppend) {
    bcastAppend(r, false);
  }
  r.needsBcastCommit = false;
  r.needsBcastAppend = false;
}

export function hasLeaderWork(r: Raft): boolean {
  return r.role === 'leader' && (r.needsBcastAppend || r.needsBcastCommit || r.needsCommitCheck);
}

function handleAppResp(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // Fast backtracking: skip every entry of a term the follower cannot have.
    let hint = m.rejectHint;
    if (m.logTerm > 0) hint = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(r, m.from, true);
    }
    return;
  }
  if (!pr.maybeUpdate(m.index)) return;
  switch (pr.state) {
    case 'probe':
      pr.becomeReplicate();
      break;
    case 'snapshot':
      if (pr.match + 1 >= r.log.firstIndex()) {
        // It has the snapshot (or caught up without it): replicate from the log.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.match >= pr.pendingSnapshot) {
        // It has the snapshot, but we compacted past it since: probe, which sends a newer
        // one. Without this, a lost snapshot report would leave it waiting forever.
        pr.becomeProbe();
      }
      break;
    case 'replicate':
      pr.inflights.freeLE(m.index);
      break;
  }
  if (maybeCommit(r)) r.needsBcastCommit = true;
  if (r.role !== 'leader') return;
  sendAppendAll(r, m.from, false, pr);
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.send({ type: MessageType.TimeoutNow, to: m.from });
  }
}

function handleHeartbeatResp(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A full window whose Apps were all lost would never drain: free one slot so an App goes
  // out; if the follower misses entries it rejects it and we fall back to probing.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from, true);
  if (m.context === undefined || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  if (!quorumActive(r.trk.voters, (id) => acks.has(id))) return;
  for (const req of r.readOnly.advance(m.context)) answerRead(r, req);
}

// ---- reads and transfers ------------------------------------------------------------------

/** Raft §8: serve a read at the current commit index once a heartbeat round confirms we lead. */
function handleReadIndex(r: Raft, m: Message): void {
  const context = m.context ?? new Uint8Array(0);
  // Until an entry of our term commits we do not know the true commit index (§8).
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndex.push(m);
    return;
  }
  const from = m.from === NO_NODE ? r.id : m.from;
  if (r.trk.voters.size === 1 && r.trk.voters.has(r.id)) {
    answerRead(r, { index: r.log.committed, from, context, acks: new Set() });
    return;
  }
  r.readOnly.add(r.log.committed, from, context);
  r.readOnly.recvAck(r.id, context);
  bcastHeartbeat(r, context);
}

function answerRead(r: Raft, req: PendingRead): void {
  if (req.from === r.id) r.readStates.push({ index: req.index, context: req.context });
  else r.send({ type: MessageType.ReadIndexResp, to: req.from, index: req.index, context: req.context });
}

function handleTransferLeader(r: Raft, to: NodeId, pr: Progress): void {
  if (pr.isLearner || to === r.id) return;
  if (r.leadTransferee !== NO_NODE) {
    if (r.leadTransferee === to) return;
    r.abortLeaderTransfer();
  }
  // The transfer must finish within one election timeout (checked in tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = to;
  if (pr.match === r.log.lastIndex()) r.send({ type: MessageType.TimeoutNow, to });
  else sendAppend(r, to, true);
}
