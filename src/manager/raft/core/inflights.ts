/**
 * The App messages in flight to one follower, as the last index each carried, in send order.
 * A ring buffer: adding and freeing are O(1) per message, and a full window pauses sending
 * (flow control) until the follower acknowledges.
 */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Array<number>(capacity).fill(0);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  /** Record a message whose last entry is `lastIndex`; indexes must increase. */
  add(lastIndex: number): void {
    if (this.full()) throw new RangeError('inflights: add to a full window');
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** The follower has everything up to `index`: free every message that ended at or before it. */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Forget the oldest message (presumed lost), making room for one more. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
    if (this.count === 0) this.start = 0;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
