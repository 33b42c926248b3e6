import type { StoredObject } from '../../../objects/index.js';

/**
 * One kind's objects by ID, with a name index. Names compare case-insensitively, as Docker's
 * do (`web` and `WEB` are the same service). Whether names must be unique is the caller's
 * rule (see store-state.ts); the index only answers who holds a name.
 */
export class Table<T extends StoredObject> {
  private readonly byId = new Map<string, T>();
  private readonly byName = new Map<string, Set<string>>();

  constructor(private readonly nameOf: (o: T) => string) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** All objects, sorted by ID so that every replica lists (and snapshots) them alike. */
  list(): T[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** IDs of the objects named `name` (any case), sorted. Empty names are not indexed. */
  idsByName(name: string): string[] {
    const ids = this.byName.get(name.toLowerCase());
    return ids === undefined ? [] : [...ids].sort();
  }

  nameOfObject(o: T): string {
    return this.nameOf(o);
  }

  /** Inserts or replaces; returns the object it replaced. */
  put(o: T): T | undefined {
    const old = this.remove(o.id);
    this.byId.set(o.id, o);
    const name = this.nameOf(o).toLowerCase();
    if (name !== '') {
      let ids = this.byName.get(name);
      if (ids === undefined) this.byName.set(name, (ids = new Set()));
      ids.add(o.id);
    }
    return old;
  }

  remove(id: string): T | undefined {
    const old = this.byId.get(id);
    if (old === undefined) return undefined;
    this.byId.delete(id);
    const name = this.nameOf(old).toLowerCase();
    const ids = this.byName.get(name);
    if (ids !== undefined) {
      ids.delete(id);
      if (ids.size === 0) this.byName.delete(name);
    }
    return old;
  }
}
