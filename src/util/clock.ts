/**
 * Injected time. Only edge adapters use the system clock; everything that decides takes a
 * Clock so tests can drive time by hand.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

export const systemClock: Clock = (() => {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  return {
    now: () => performance.now(),
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const id = nextId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      timers.set(id, t);
      return { id };
    },
    clearTimeout(handle: TimerHandle): void {
      const t = timers.get(handle.id);
      if (t !== undefined) {
        clearTimeout(t);
        timers.delete(handle.id);
      }
    },
  };
})();
