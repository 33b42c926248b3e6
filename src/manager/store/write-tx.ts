import { canonicalObject } from './codec/object-codec.js';
import type { DeepPartial, ObjectKind, ObjectOfKind, Task } from '../../objects/index.js';
import type { Overlay } from './state/overlay.js';
import type { ReadTx } from './state/read-tx.js';

/**
 * A write transaction, handed to the function given to store.update()/batch(). It reads the
 * local state with its own changes laid over it, and checks each change at once (throwing
 * STORE_ID_CONFLICT, STORE_NAME_CONFLICT, STORE_NOT_FOUND, STORE_VERSION_CONFLICT or
 * STORE_INVALID_OBJECT), so most mistakes fail before anything is proposed. apply() checks
 * them again on every replica, which is what decides.
 */
export interface WriteTx extends ReadTx {
  /** Adds a new object. Its meta is ignored: the store stamps version and times. */
  create<K extends ObjectKind>(kind: K, object: DeepPartial<ObjectOfKind[K]>): void;
  /** Replaces an object. meta.version must be the version it was read at. */
  update<K extends ObjectKind>(kind: K, object: DeepPartial<ObjectOfKind[K]>): void;
  delete(kind: ObjectKind, id: string): void;
}

export class OverlayWriteTx implements WriteTx {
  constructor(private readonly overlay: Overlay) {}

  get<K extends ObjectKind>(kind: K, id: string): ObjectOfKind[K] | undefined {
    return this.overlay.get(kind, id);
  }
  getByName<K extends ObjectKind>(kind: K, name: string): ObjectOfKind[K] | undefined {
    return this.overlay.getByName(kind, name);
  }
  findByName<K extends ObjectKind>(kind: K, name: string): Array<ObjectOfKind[K]> {
    return this.overlay.findByName(kind, name);
  }
  list<K extends ObjectKind>(kind: K): Array<ObjectOfKind[K]> {
    return this.overlay.list(kind);
  }
  tasksByService(serviceId: string): Task[] {
    return this.overlay.tasksByService(serviceId);
  }
  tasksByNode(nodeId: string): Task[] {
    return this.overlay.tasksByNode(nodeId);
  }
  tasksBySlot(serviceId: string, slot: number): Task[] {
    return this.overlay.tasksBySlot(serviceId, slot);
  }

  create<K extends ObjectKind>(kind: K, object: DeepPartial<ObjectOfKind[K]>): void {
    this.overlay.create(kind, canonicalObject(kind, { ...object, meta: undefined }));
  }

  update<K extends ObjectKind>(kind: K, object: DeepPartial<ObjectOfKind[K]>): void {
    this.overlay.update(kind, canonicalObject(kind, object));
  }

  delete(kind: ObjectKind, id: string): void {
    this.overlay.delete(kind, id);
  }
}
