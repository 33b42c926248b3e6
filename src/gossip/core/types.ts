import type { MemberState } from '../wire/messages.js';
import type { TableChange } from './table-store.js';

export type { MemberState } from '../wire/messages.js';
export type { TableChange, TableEntryView } from './table-store.js';

export interface MemberView {
  readonly id: string;
  readonly addr: string;
  readonly state: MemberState;
  readonly incarnation: number;
}

export interface MemberChange {
  kind: 'member';
  member: MemberView;
}

/** The end of a join: how many of the seeds answered (0 means the join failed). */
export interface JoinResult {
  kind: 'join';
  seeds: string[];
  contacted: number;
}

export type GossipEvent = MemberChange | TableChange | JoinResult;

/** A UDP packet to send: `payload` is a whole encoded packet, not yet sealed. */
export interface OutPacket {
  to: string;
  payload: Uint8Array;
}

/**
 * A TCP exchange to start: send the frame, then report the reply frame with
 * handleStreamReply(id) or any failure (refused, timeout, undecryptable) with
 * handleStreamFailure(id).
 */
export interface OutStream {
  id: number;
  to: string;
  payload: Uint8Array;
}

/** What the core produced since the last drain; the driver sends and delivers all of it. */
export interface CoreOutput {
  packets: OutPacket[];
  streams: OutStream[];
  events: GossipEvent[];
}

/** Counters kept by the core (the driver adds the transport's). */
export interface CoreCounters {
  malformed: number;
  misdirectedPings: number;
  foreignTableEvents: number;
  probes: number;
  failedProbes: number;
  refutations: number;
}
