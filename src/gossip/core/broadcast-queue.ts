/**
 * Messages waiting to be gossiped, each sent a limited number of times. A newer message with
 * the same key (e.g. a later state of the same member) replaces the older one. The least-sent
 * messages go first (as in memberlist's TransmitLimitedQueue); messages are kept in buckets by
 * transmit count so taking a packet's worth never sorts the whole queue.
 */
interface Queued {
  key: string;
  encoded: Uint8Array;
  transmits: number;
}

export class BroadcastQueue {
  private readonly byKey = new Map<string, Queued>();
  /** buckets[t]: messages sent t times, oldest first. */
  private readonly buckets: Array<Set<Queued>> = [];

  enqueue(key: string, encoded: Uint8Array): void {
    const prev = this.byKey.get(key);
    if (prev !== undefined) this.buckets[prev.transmits]!.delete(prev);
    const item: Queued = { key, encoded, transmits: 0 };
    this.byKey.set(key, item);
    this.bucket(0).add(item);
  }

  private bucket(t: number): Set<Queued> {
    while (this.buckets.length <= t) this.buckets.push(new Set());
    return this.buckets[t]!;
  }

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Takes messages fitting in `budget` bytes, each costing its length plus `perMessage`;
   * every taken message counts one transmit and leaves the queue at `limit` transmits.
   */
  take(budget: number, perMessage: number, limit: number, maxMessages: number): Uint8Array[] {
    if (this.byKey.size === 0 || budget <= 0) return [];
    const taken: Queued[] = [];
    let left = budget;
    outer: for (const bucket of this.buckets) {
      for (const item of bucket) {
        if (taken.length >= maxMessages || left < perMessage + 1) break outer;
        const cost = item.encoded.length + perMessage;
        if (cost > left) continue;
        left -= cost;
        taken.push(item);
      }
    }
    for (const item of taken) {
      this.buckets[item.transmits]!.delete(item);
      item.transmits++;
      if (item.transmits >= limit) this.byKey.delete(item.key);
      else this.bucket(item.transmits).add(item);
    }
    return taken.map((i) => i.encoded);
  }

  /**
   * Takes up to `max` messages too large for a packet of `budget` bytes (they go over TCP
   * instead); each counts one transmit, as in take().
   */
  takeOversized(budget: number, limit: number, max: number): Uint8Array[] {
    const taken: Queued[] = [];
    for (const bucket of this.buckets) {
      for (const item of bucket) {
        if (taken.length >= max) break;
        if (item.encoded.length > budget) taken.push(item);
      }
    }
    for (const item of taken) {
      this.buckets[item.transmits]!.delete(item);
      item.transmits++;
      if (item.transmits >= limit) this.byKey.delete(item.key);
      else this.bucket(item.transmits).add(item);
    }
    return taken.map((i) => i.encoded);
  }

  clear(): void {
    this.byKey.clear();
    this.buckets.length = 0;
  }
}
