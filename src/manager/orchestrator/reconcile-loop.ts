import { errorMessage, isTsswarmError } from '../../errors/index.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import type { ObjectKind } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { MemoryStore, WriteTx } from '../store/index.js';

/** What one pass decided besides its writes: when it wants to run again (wall ms), if ever. */
export interface PassResult {
  readonly wakeAtMs?: number;
}

export interface ReconcileLoopOptions {
  readonly name: string;
  readonly store: MemoryStore;
  /** Timers (wake-ups and retries). */
  readonly clock: Clock;
  /** Unix ms, the time base of the store's meta times and of task status timestamps. */
  readonly wallClock: () => number;
  readonly logger?: Logger;
  /** Kinds whose changes make the loop run a pass. */
  readonly kinds: readonly ObjectKind[];
  /** ms before a pass that failed for another reason than a version conflict runs again. */
  readonly retryDelayMs: number;
  /**
   * Decides from the transaction's view and writes the changes into it. Synchronous and
   * idempotent: run again on the state it produced, it writes nothing.
   */
  readonly pass: (tx: WriteTx, nowMs: number) => PassResult;
}

/**
 * The thin runner shared by the leader-only components (orchestrator, scheduler, task
 * allocator): on start and on every change of the watched kinds it runs one pass over the
 * whole store inside store.batch (so decisions read the freshest state and large change sets
 * are split into entries of 200), coalescing the events that arrive meanwhile into one next
 * pass. It holds no state but the store: stop() and start() at any time resume from it (the
 * first pass after start() waits for a Raft read index, so it sees every committed write).
 * A STORE_VERSION_CONFLICT (another writer got there first) re-runs the pass at once; any
 * other failure (no quorum, lost leadership) re-runs it after retryDelayMs.
 */
export class ReconcileLoop {
  private readonly log: Logger;
  private running = false;
  private dirty = false;
  private generation = 0;
  private current: Promise<void> | undefined;
  private wakeTimer: TimerHandle | undefined;
  private stopWatching: (() => void) | undefined;
  /** Whether this run has waited for everything committed to be applied here. */
  private caughtUp = false;
  /** Passes that completed (for tests and metrics). */
  passes = 0;

  constructor(private readonly o: ReconcileLoopOptions) {
    this.log = o.logger === undefined ? silentLogger() : componentLogger(o.logger, o.name);
  }

  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.caughtUp = false;
    const generation = ++this.generation;
    this.watch(generation);
    this.kick();
  }

  /** Stops watching and waits for a pass in flight to end (its write may still commit). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.clearWake();
    await this.current;
  }

  /** Resolves once no pass runs and none is due (for tests). */
  async idle(): Promise<void> {
    while (this.current !== undefined) await this.current;
  }

  private watch(generation: number): void {
    const watcher = this.o.store.watch({ kinds: this.o.kinds });
    this.stopWatching = () => watcher.close();
    void (async () => {
      try {
        for await (const _event of watcher) this.kick();
      } catch (err) {
        // Fell behind (STORE_WATCH_TOO_SLOW): a fresh watch and a full pass lose nothing,
        // since every pass reads the whole state.
        if (this.running && generation === this.generation) {
          this.log.warn({ err: errorMessage(err) }, 'store watch ended; watching again');
          this.watch(generation);
          this.kick();
        }
      }
    })();
  }

  private kick(): void {
    if (!this.running) return;
    this.dirty = true;
    if (this.current !== undefined) return;
    this.current = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain()).finally(() => {
      this.current = undefined;
      if (this.dirty && this.running) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty && this.running) {
      this.dirty = false;
      let result: PassResult = {};
      try {
        if (!this.caughtUp) {
          // A new leader may not have applied every committed entry yet; planning from such a
          // state could, say, fill a slot whose task is already committed. A read index first.
          await this.o.store.viewLinearizable(() => undefined);
          this.caughtUp = true;
        }
        await this.o.store.batch((tx) => {
          result = this.o.pass(tx, this.o.wallClock());
        });
        this.passes++;
        this.setWake(result.wakeAtMs);
      } catch (err) {
        if (isTsswarmError(err) && err.code === 'STORE_VERSION_CONFLICT') {
          this.log.debug({ err: errorMessage(err) }, 'pass lost a race; running it again');
          this.dirty = true;
          continue;
        }
        this.log.warn({ err: errorMessage(err), retryInMs: this.o.retryDelayMs }, 'pass failed; retrying');
        this.setWake(this.o.wallClock() + this.o.retryDelayMs);
        return;
      }
    }
  }

  private setWake(atMs: number | undefined): void {
    this.clearWake();
    if (atMs === undefined || !this.running) return;
    const delay = Math.max(0, atMs - this.o.wallClock());
    this.wakeTimer = this.o.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.kick();
    }, delay);
  }

  private clearWake(): void {
    if (this.wakeTimer !== undefined) this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }
}
