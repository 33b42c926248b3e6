import type { ObjectKind, ObjectOfKind, Task } from '../../../objects/index.js';

/**
 * Read access to the store, inside view() and inside a write transaction (where it also
 * sees the transaction's own staged changes). Objects are frozen: copy one (structuredClone)
 * before changing it for an update. Lists are sorted by ID.
 */
export interface ReadTx {
  get<K extends ObjectKind>(kind: K, id: string): ObjectOfKind[K] | undefined;
  /** The object named `name` (case-insensitive); for nodes, whose names may repeat, the first by ID. */
  getByName<K extends ObjectKind>(kind: K, name: string): ObjectOfKind[K] | undefined;
  /** Every object named `name` (case-insensitive). */
  findByName<K extends ObjectKind>(kind: K, name: string): Array<ObjectOfKind[K]>;
  list<K extends ObjectKind>(kind: K): Array<ObjectOfKind[K]>;
  tasksByService(serviceId: string): Task[];
  tasksByNode(nodeId: string): Task[];
  tasksBySlot(serviceId: string, slot: number): Task[];
}
