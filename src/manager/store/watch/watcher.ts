import { TsswarmError } from '../../../errors/index.js';
import type { StoreEvent } from './event.js';

/**
 * One subscriber's queue of store events, read as an async iterable. The store pushes into
 * it synchronously while applying and never waits for the reader: when more than `limit`
 * events are queued, the watcher is cut off: its queue is dropped and the reader's next
 * read throws STORE_WATCH_TOO_SLOW. It should then start over with viewAndWatch.
 *
 * Ending a `for await` loop early (break, return, throw) closes the watcher.
 */
export class Watcher implements AsyncIterableIterator<StoreEvent> {
  private queue: StoreEvent[] = [];
  private head = 0;
  private waiting: { resolve: (r: IteratorResult<StoreEvent>) => void; reject: (e: unknown) => void } | undefined;
  private failure: TsswarmError | undefined;
  private ended = false;

  constructor(
    private readonly limit: number,
    private readonly onClose: (w: Watcher) => void,
  ) {}

  /** Events queued and not yet read. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Called by the store, in commit order. */
  push(e: StoreEvent): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value: e, done: false });
      return;
    }
    this.queue.push(e);
    if (this.pending > this.limit) this.fail(new TsswarmError('STORE_WATCH_TOO_SLOW', { queued: this.pending }));
  }

  /** Ends the watcher with an error its reader sees on the next read. */
  fail(err: TsswarmError): void {
    if (this.ended) return;
    this.failure = err;
    this.finish();
  }

  next(): Promise<IteratorResult<StoreEvent>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      // Drop the consumed prefix now and then, so the array does not grow without bound.
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Stops the watcher; queued events are dropped and readers see the end. */
  close(): void {
    this.finish();
  }

  return(): Promise<IteratorResult<StoreEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StoreEvent> {
    return this;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.onClose(this);
    const w = this.waiting;
    this.waiting = undefined;
    if (w === undefined) return;
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      w.reject(err);
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }
}
