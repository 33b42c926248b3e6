import type { Task } from '../../../objects/index.js';

/** A multimap key -> IDs whose sets disappear when empty, so the index never grows stale. */
class MultiIndex {
  private readonly m = new Map<string, Set<string>>();
  add(key: string, id: string): void {
    let s = this.m.get(key);
    if (s === undefined) this.m.set(key, (s = new Set()));
    s.add(id);
  }
  delete(key: string, id: string): void {
    const s = this.m.get(key);
    if (s === undefined) return;
    s.delete(id);
    if (s.size === 0) this.m.delete(key);
  }
  ids(key: string): string[] {
    const s = this.m.get(key);
    return s === undefined ? [] : [...s].sort();
  }
}

const slotKey = (serviceId: string, slot: number): string => `${serviceId}\u0000${slot}`;

/**
 * The task lookups the orchestrators, the dispatcher and `service ps`/`node ps` need:
 * by service, by node, and by (service, slot). Kept in step with the task table by
 * StoreState on every put and remove.
 */
export class TaskIndexes {
  private readonly service = new MultiIndex();
  private readonly node = new MultiIndex();
  private readonly slot = new MultiIndex();

  add(t: Task): void {
    if (t.serviceId !== '') {
      this.service.add(t.serviceId, t.id);
      this.slot.add(slotKey(t.serviceId, t.slot), t.id);
    }
    if (t.nodeId !== '') this.node.add(t.nodeId, t.id);
  }

  remove(t: Task): void {
    this.service.delete(t.serviceId, t.id);
    this.slot.delete(slotKey(t.serviceId, t.slot), t.id);
    this.node.delete(t.nodeId, t.id);
  }

  byService(serviceId: string): string[] {
    return this.service.ids(serviceId);
  }

  byNode(nodeId: string): string[] {
    return this.node.ids(nodeId);
  }

  bySlot(serviceId: string, slot: number): string[] {
    return this.slot.ids(slotKey(serviceId, slot));
  }
}
