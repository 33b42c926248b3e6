import { objectKinds } from '../../../objects/index.js';
import type { StoreState } from '../state/store-state.js';
import type { StoreEvent } from './event.js';

/**
 * The events that turn `before` into `after` (a restored snapshot): deletes, creates and
 * updates per kind, objects compared by meta.version (the index that wrote them).
 */
export function diffStates(before: StoreState, after: StoreState, index: number): StoreEvent[] {
  const events: StoreEvent[] = [];
  for (const kind of objectKinds) {
    for (const old of before.list(kind)) {
      if (after.get(kind, old.id) === undefined) events.push({ action: 'delete', kind, object: old, oldObject: undefined, index } as StoreEvent);
    }
    for (const o of after.list(kind)) {
      const old = before.get(kind, o.id);
      if (old === undefined) events.push({ action: 'create', kind, object: o, oldObject: undefined, index } as StoreEvent);
      else if (old.meta.version !== o.meta.version) events.push({ action: 'update', kind, object: o, oldObject: old, index } as StoreEvent);
    }
  }
  return events;
}
