import type { ConfState, Entry, Message, Snapshot, SnapshotMetadata } from '../types.js';
import type { WireEntry, WireMessage, WireSnapshotMetadata } from './wire-types.js';

/**
 * Conversions between the core's Message and the wire shape. Entries already have the wire
 * shape (term, index, type, data), so they pass through without copying: this is the hot path
 * of replication.
 */

const EMPTY = new Uint8Array(0);

function metadataToWire(md: SnapshotMetadata): WireSnapshotMetadata {
  return {
    index: md.index,
    term: md.term,
    confState: { voters: [...md.confState.voters], learners: [...md.confState.learners] },
  };
}

function confStateFromWire(cs: WireSnapshotMetadata['confState']): ConfState {
  return { voters: cs?.voters ?? [], learners: cs?.learners ?? [] };
}

/** The wire form of `m`. A Snap message's data is not included: it travels in chunks. */
export function messageToWire(m: Message): WireMessage {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries as WireEntry[],
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    snapshotMetadata: m.snapshot === undefined ? null : metadataToWire(m.snapshot.metadata),
    context: m.context ?? EMPTY,
  };
}

/**
 * The core's form of a received message. `snapshotData` is the reassembled data for a Snap
 * message; other messages never carry a snapshot.
 */
export function messageFromWire(w: WireMessage, snapshotData?: Uint8Array): Message {
  let snapshot: Snapshot | undefined;
  if (w.snapshotMetadata !== null && snapshotData !== undefined) {
    snapshot = {
      metadata: {
        index: w.snapshotMetadata.index,
        term: w.snapshotMetadata.term,
        confState: confStateFromWire(w.snapshotMetadata.confState),
      },
      data: snapshotData,
    };
  }
  // Every field present, in the core's order (see makeMessage in core/messages.ts), so all
  // messages share one hidden class and the core's property loads stay monomorphic.
  return {
    type: w.type,
    to: w.to,
    from: w.from,
    term: w.term,
    logTerm: w.logTerm,
    index: w.index,
    entries: w.entries as Entry[],
    commit: w.commit,
    reject: w.reject,
    rejectHint: w.rejectHint,
    snapshot,
    context: w.context.length === 0 ? undefined : w.context,
  };
}

/** Sum of entry data bytes, used to split very large batches below gRPC's message limit. */
export function entryBytes(m: Message): number {
  let n = 0;
  for (const e of m.entries) n += e.data.length + 24;
  return n;
}
