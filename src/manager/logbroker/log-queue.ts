/**
 * The subscriber's side of one subscription: an async iterable fed by the broker, bounded so
 * a slow reader slows the nodes instead of filling the leader's memory. push() resolves once
 * the queue has room again (the gRPC edge stops reading the node's stream meanwhile, and
 * HTTP/2 flow control pushes back to the agent). Ending it (end, fail) lets the reader take
 * what is queued first; the reader leaving (return, break) calls onLeave once.
 */
export class LogQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly roomWaiters: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: unknown;
  private left = false;

  constructor(
    private readonly maxItems: number,
    private readonly onLeave: () => void,
  ) {}

  /** Adds items; resolves when the queue is below its bound (at once if it is). */
  push(items: readonly T[]): Promise<void> {
    if (this.ended || this.left) return Promise.resolve();
    this.items.push(...items);
    this.wakeReader();
    if (this.items.length <= this.maxItems) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** No more items: the reader ends after the queued ones. */
  end(): void {
    this.ended = true;
    this.wakeReader();
  }

  /** The reader throws `err` after the queued items. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = err;
    this.end();
  }

  get isOver(): boolean {
    return this.ended || this.left;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async () => {
        for (;;) {
          if (this.left) return { done: true, value: undefined };
          const item = this.items.shift();
          if (item !== undefined) {
            if (this.items.length <= this.maxItems) this.releaseRoom();
            return { done: false, value: item };
          }
          if (this.ended) {
            if (this.failure !== undefined) {
              const err = this.failure;
              this.failure = undefined;
              throw err;
            }
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      return: async () => {
        this.leave();
        return { done: true, value: undefined };
      },
    };
  }

  /** The reader went away (or its signal aborted): drop everything, unblock the pushers. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.items.length = 0;
    this.releaseRoom();
    this.wakeReader();
    this.onLeave();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private releaseRoom(): void {
    for (const resolve of this.roomWaiters.splice(0)) resolve();
  }
}
