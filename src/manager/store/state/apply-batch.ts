import { isTsswarmError, type ErrorDetails } from '../../../errors/index.js';
import type { ErrorCode } from '../../../errors/catalog.js';
import type { StoreActionBatch } from '../codec/batch-codec.js';
import type { ObjectKind, ObjectOfKind, StoredObject } from '../../../objects/index.js';
import type { StoreEvent } from '../watch/event.js';
import { Overlay } from './overlay.js';
import type { StoreState } from './store-state.js';

/** What applying one batch did: its events, or why it was refused (then nothing changed). */
export type ApplyOutcome =
  | { readonly ok: true; readonly events: StoreEvent[] }
  | { readonly ok: false; readonly code: ErrorCode; readonly details: ErrorDetails };

/**
 * Applies a batch all-or-nothing. Deterministic: it reads only the state and the batch (the
 * timestamps come from the proposer, inside the batch), so every replica reaches the same
 * result. Each action is re-validated against the state the entry lands on; the first that
 * fails makes the whole batch a no-op with that error.
 */
export function applyBatch(state: StoreState, index: number, batch: StoreActionBatch): ApplyOutcome {
  const overlay = new Overlay(state);
  try {
    for (const a of batch.actions) {
      if (a.kind === 'CREATE') overlay.create(a.objectKind, a.object as ObjectOfKind[ObjectKind]);
      else if (a.kind === 'UPDATE') overlay.update(a.objectKind, a.object as ObjectOfKind[ObjectKind]);
      else overlay.delete(a.objectKind, a.object.id);
    }
  } catch (err) {
    if (isTsswarmError(err)) return { ok: false, code: err.code, details: err.details };
    return { ok: false, code: 'INTERNAL', details: { detail: String(err) } };
  }
  const events: StoreEvent[] = [];
  for (const c of overlay.changes()) {
    if (c.after === undefined) {
      const old = state.remove(c.kind, c.id)!;
      events.push({ action: 'delete', kind: c.kind, object: old, oldObject: undefined, index } as StoreEvent);
      continue;
    }
    const stamped = stamp(c.after, c.before, index, batch.proposedAtMs);
    state.put(c.kind, stamped as ObjectOfKind[ObjectKind]);
    events.push({ action: c.before === undefined ? 'create' : 'update', kind: c.kind, object: stamped, oldObject: c.before, index } as StoreEvent);
  }
  state.appliedIndex = index;
  return { ok: true, events };
}

/** The stored copy: version = this entry's index; created kept from before, updated = now. */
function stamp(o: StoredObject, before: StoredObject | undefined, index: number, at: number): StoredObject {
  const meta = Object.freeze({ version: index, createdAtMs: before?.meta.createdAtMs ?? at, updatedAtMs: at });
  return Object.freeze({ ...o, meta });
}
