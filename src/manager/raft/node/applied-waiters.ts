import type { TsswarmError } from '../../../errors/index.js';

interface Waiter {
  readonly index: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (e: TsswarmError) => void;
  readonly onTimeout: () => TsswarmError;
}

/**
 * Callers waiting until the state machine has applied some index (linearizable reads,
 * membership changes). Few at a time, so a plain list is enough.
 */
export class AppliedWaiters {
  private waiters: Waiter[] = [];

  wait(index: number, applied: number, deadline: number, onTimeout: () => TsswarmError): Promise<void> {
    if (applied >= index) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ index, deadline, resolve, reject, onTimeout });
    });
  }

  advance(applied: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.index <= applied) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  expire(now: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadline <= now) w.reject(w.onTimeout());
      else keep.push(w);
    }
    this.waiters = keep;
  }

  failAll(make: () => TsswarmError): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.reject(make());
  }
}
