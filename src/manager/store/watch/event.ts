import type { ObjectKind, ObjectOfKind } from '../../../objects/index.js';

export type StoreEventAction = 'create' | 'update' | 'delete';

/**
 * One committed change, published after the entry is applied, in commit order. For a
 * delete, `object` is the object as it was last stored. `index` is the Raft index of the
 * entry (or of the snapshot) that made the change; one entry's events share it.
 * Narrow on `kind` to get the object's type.
 */
export interface StoreEventOf<K extends ObjectKind> {
  readonly action: StoreEventAction;
  readonly kind: K;
  readonly object: ObjectOfKind[K];
  readonly oldObject: ObjectOfKind[K] | undefined;
  readonly index: number;
}

export type StoreEvent = { [K in ObjectKind]: StoreEventOf<K> }[ObjectKind];

/** Which events a watcher wants; every given condition must hold. */
export interface WatchFilter {
  readonly kinds?: readonly ObjectKind[];
  readonly actions?: readonly StoreEventAction[];
  readonly match?: (e: StoreEvent) => boolean;
}

export function matchesFilter(f: WatchFilter | undefined, e: StoreEvent): boolean {
  if (f === undefined) return true;
  if (f.kinds !== undefined && !f.kinds.includes(e.kind)) return false;
  if (f.actions !== undefined && !f.actions.includes(e.action)) return false;
  return f.match === undefined || f.match(e);
}
