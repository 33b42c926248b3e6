import type { ReadState } from '../types.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Linearizable reads waiting for their ReadState: each gets a unique context, which the core
 * hands back with the read index once the leader has confirmed it still leads.
 */
export class ReadRequests {
  private readonly waiting = new Map<string, (index: number) => void>();
  private counter = 0;

  constructor(private readonly prefix: string) {}

  /** A fresh context and the promise of its read index; `cancel` drops it (on timeout). */
  start(): { context: Uint8Array; index: Promise<number>; cancel: () => void } {
    const key = `${this.prefix}/read/${++this.counter}`;
    const index = new Promise<number>((resolve) => this.waiting.set(key, resolve));
    return { context: utf8.encode(key), index, cancel: () => this.waiting.delete(key) };
  }

  deliver(states: readonly ReadState[]): void {
    for (const rs of states) {
      const key = fromUtf8.decode(rs.context);
      const done = this.waiting.get(key);
      if (done === undefined) continue;
      this.waiting.delete(key);
      done(rs.index);
    }
  }
}
