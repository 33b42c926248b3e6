import { TsswarmError } from '../../../errors/index.js';
import type { ObjectKind, ObjectOfKind, StoredObject, Task } from '../../../objects/index.js';
import type { ReadTx } from './read-tx.js';
import { objectName, uniqueNames, type StoreState } from './store-state.js';

/** One object's change within a transaction: before (in the base state) and after (staged). */
export interface StagedChange {
  readonly kind: ObjectKind;
  readonly id: string;
  readonly before: StoredObject | undefined;
  readonly after: StoredObject | undefined;
}

const keyOf = (kind: ObjectKind, id: string): string => `${kind}\u0000${id}`;

/**
 * A transaction's changes layered over the store's state, with the rules every change must
 * obey. The SAME code validates a transaction on the proposing manager (early, against its
 * possibly stale local state) and again inside apply() on every replica (authoritative,
 * against the state the entry lands on), so the two can never disagree about what is valid.
 *
 * Rules: create needs a new ID and a free name; update needs an existing object, the version
 * it was read at (meta.version) and a free name; delete needs an existing object. Several
 * changes to one object in one transaction collapse into one (create+update = create,
 * create+delete = nothing, update+delete = delete).
 */
export class Overlay implements ReadTx {
  private readonly staged = new Map<string, StagedChange>();

  constructor(private readonly base: StoreState) {}

  /** The changes in the order their objects were first touched. */
  changes(): StagedChange[] {
    return [...this.staged.values()].filter((c) => c.before !== undefined || c.after !== undefined);
  }

  get<K extends ObjectKind>(kind: K, id: string): ObjectOfKind[K] | undefined {
    const c = this.staged.get(keyOf(kind, id));
    return (c === undefined ? this.base.get(kind, id) : c.after) as ObjectOfKind[K] | undefined;
  }

  list<K extends ObjectKind>(kind: K): Array<ObjectOfKind[K]> {
    return this.merge(kind, this.base.list(kind), () => true);
  }

  findByName<K extends ObjectKind>(kind: K, name: string): Array<ObjectOfKind[K]> {
    const lower = name.toLowerCase();
    return this.merge(kind, this.base.findByName(kind, name), (o) => objectName(kind, o).toLowerCase() === lower);
  }

  getByName<K extends ObjectKind>(kind: K, name: string): ObjectOfKind[K] | undefined {
    return this.findByName(kind, name)[0];
  }

  tasksByService(serviceId: string): Task[] {
    return this.merge('task', this.base.tasksByService(serviceId), (t) => t.serviceId === serviceId);
  }

  tasksByNode(nodeId: string): Task[] {
    return this.merge('task', this.base.tasksByNode(nodeId), (t) => t.nodeId === nodeId);
  }

  tasksBySlot(serviceId: string, slot: number): Task[] {
    return this.merge('task', this.base.tasksBySlot(serviceId, slot), (t) => t.serviceId === serviceId && t.slot === slot);
  }

  create<K extends ObjectKind>(kind: K, o: ObjectOfKind[K]): void {
    if (this.get(kind, o.id) !== undefined) throw new TsswarmError('STORE_ID_CONFLICT', { kind, id: o.id });
    this.checkName(kind, o);
    this.stage(kind, o.id, o);
  }

  update<K extends ObjectKind>(kind: K, o: ObjectOfKind[K]): void {
    const current = this.get(kind, o.id);
    if (current === undefined) throw new TsswarmError('STORE_NOT_FOUND', { kind, id: o.id });
    if (current.meta.version !== o.meta.version) {
      throw new TsswarmError('STORE_VERSION_CONFLICT', { kind, id: o.id, expected: o.meta.version, actual: current.meta.version });
    }
    this.checkName(kind, o);
    this.stage(kind, o.id, o);
  }

  delete(kind: ObjectKind, id: string): void {
    if (this.get(kind, id) === undefined) throw new TsswarmError('STORE_NOT_FOUND', { kind, id });
    this.stage(kind, id, undefined);
  }

  private stage(kind: ObjectKind, id: string, after: StoredObject | undefined): void {
    const key = keyOf(kind, id);
    const prev = this.staged.get(key);
    this.staged.set(key, { kind, id, before: prev === undefined ? this.base.get(kind, id) : prev.before, after });
  }

  private checkName(kind: ObjectKind, o: StoredObject): void {
    if (!uniqueNames[kind]) return;
    const name = objectName(kind, o);
    if (name === '') return;
    const holder = this.findByName(kind, name).find((x) => x.id !== o.id);
    if (holder !== undefined) throw new TsswarmError('STORE_NAME_CONFLICT', { kind, name, id: holder.id });
  }

  /** Base results with staged changes laid over them: staged versions replace, deletions drop. */
  private merge<K extends ObjectKind>(kind: K, fromBase: Array<ObjectOfKind[K]>, matches: (o: ObjectOfKind[K]) => boolean): Array<ObjectOfKind[K]> {
    if (this.staged.size === 0) return fromBase;
    const out = new Map<string, ObjectOfKind[K]>();
    for (const o of fromBase) if (!this.staged.has(keyOf(kind, o.id))) out.set(o.id, o);
    for (const c of this.staged.values()) {
      if (c.kind !== kind || c.after === undefined) continue;
      const o = c.after as ObjectOfKind[K];
      if (matches(o)) out.set(o.id, o);
    }
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
