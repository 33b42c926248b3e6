import { MessageType } from '../types.js';
import type { Entry, Message, NodeId } from '../types.js';

export const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/**
 * Marks a Vote sent because the leader handed over leadership (TimeoutNow): voters honour it
 * even within a leader lease, since the leader itself asked for the election.
 */
export const TRANSFER_CONTEXT: Uint8Array = new TextEncoder().encode('tsswarm:transfer-leader');

export function isTransferContext(context: Uint8Array | undefined): boolean {
  if (context === undefined || context.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < context.length; i++) if (context[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

export interface MessageFields {
  type: MessageType;
  to: NodeId;
  from?: NodeId;
  term?: number;
  logTerm?: number;
  index?: number;
  entries?: readonly Entry[];
  commit?: number;
  reject?: boolean;
  rejectHint?: number;
  snapshot?: Message['snapshot'];
  context?: Uint8Array;
}

/** A complete Message with every unset field at its zero value (always the same shape). */
export function makeMessage(f: MessageFields): Message {
  return {
    type: f.type,
    to: f.to,
    from: f.from ?? '',
    term: f.term ?? 0,
    logTerm: f.logTerm ?? 0,
    index: f.index ?? 0,
    entries: f.entries ?? NO_ENTRIES,
    commit: f.commit ?? 0,
    reject: f.reject ?? false,
    rejectHint: f.rejectHint ?? 0,
    snapshot: f.snapshot,
    context: f.context,
  };
}

/** The response type that answers a vote request of type `t`. */
export function voteRespType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}

/** Messages that only a leader of the message's term sends. */
export function isLeaderMessage(t: MessageType): boolean {
  return t === MessageType.App || t === MessageType.Heartbeat || t === MessageType.Snap;
}
