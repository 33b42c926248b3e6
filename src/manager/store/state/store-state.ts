import type { Node, ObjectKind, ObjectOfKind, StoredObject, Task } from '../../../objects/index.js';
import type { ReadTx } from './read-tx.js';
import { Table } from './table.js';
import { TaskIndexes } from './task-indexes.js';

/**
 * Which kinds must have unique names. Services, networks and clusters are addressed by name
 * in the CLI, so a name must pick one object. Nodes are not: two hosts may share a hostname
 * (Docker allows it; `node ls` shows both and the ID disambiguates). Tasks are named after
 * their service and slot and are never looked up by name alone.
 */
export const uniqueNames: Readonly<Record<ObjectKind, boolean>> = {
  node: false,
  cluster: true,
  service: true,
  task: false,
  network: true,
};

/** The name an object is indexed under ('' = not indexed). */
export function objectName(kind: ObjectKind, o: StoredObject): string {
  if (kind === 'node') {
    const n = o as Node;
    return n.spec.annotations.name !== '' ? n.spec.annotations.name : (n.description?.hostname ?? '');
  }
  if (kind === 'task') return (o as Task).annotations?.name ?? '';
  return (o as unknown as { spec: { annotations: { name: string } } }).spec.annotations.name;
}

type Tables = { [K in ObjectKind]: Table<ObjectOfKind[K]> };

/** The store's tables and indexes. Mutated only by apply() and restore() of MemoryStore. */
export class StoreState implements ReadTx {
  readonly tables: Tables = {
    node: new Table((o) => objectName('node', o)),
    cluster: new Table((o) => objectName('cluster', o)),
    service: new Table((o) => objectName('service', o)),
    task: new Table((o) => objectName('task', o)),
    network: new Table((o) => objectName('network', o)),
  };
  private readonly taskIndexes = new TaskIndexes();
  /** The Raft index of the last entry applied (or of the snapshot restored). */
  appliedIndex = 0;

  get<K extends ObjectKind>(kind: K, id: string): ObjectOfKind[K] | undefined {
    return this.table(kind).get(id);
  }

  getByName<K extends ObjectKind>(kind: K, name: string): ObjectOfKind[K] | undefined {
    return this.findByName(kind, name)[0];
  }

  findByName<K extends ObjectKind>(kind: K, name: string): Array<ObjectOfKind[K]> {
    const t = this.table(kind);
    return t.idsByName(name).map((id) => t.get(id)!);
  }

  list<K extends ObjectKind>(kind: K): Array<ObjectOfKind[K]> {
    return this.table(kind).list();
  }

  tasksByService(serviceId: string): Task[] {
    return this.taskIndexes.byService(serviceId).map((id) => this.tables.task.get(id)!);
  }

  tasksByNode(nodeId: string): Task[] {
    return this.taskIndexes.byNode(nodeId).map((id) => this.tables.task.get(id)!);
  }

  tasksBySlot(serviceId: string, slot: number): Task[] {
    return this.taskIndexes.bySlot(serviceId, slot).map((id) => this.tables.task.get(id)!);
  }

  /** IDs holding `name` in `kind` (case-insensitive). */
  idsByName(kind: ObjectKind, name: string): string[] {
    return this.table(kind).idsByName(name);
  }

  put<K extends ObjectKind>(kind: K, o: ObjectOfKind[K]): ObjectOfKind[K] | undefined {
    const old = this.table(kind).put(o);
    if (kind === 'task') {
      if (old !== undefined) this.taskIndexes.remove(old as Task);
      this.taskIndexes.add(o as Task);
    }
    return old;
  }

  remove<K extends ObjectKind>(kind: K, id: string): ObjectOfKind[K] | undefined {
    const old = this.table(kind).remove(id);
    if (kind === 'task' && old !== undefined) this.taskIndexes.remove(old as Task);
    return old;
  }

  private table<K extends ObjectKind>(kind: K): Table<ObjectOfKind[K]> {
    return this.tables[kind] as unknown as Table<ObjectOfKind[K]>;
  }
}
