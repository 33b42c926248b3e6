import { errorMessage } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import type { TaskStatus } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { MemoryStore } from '../store/index.js';
import { decideStatusUpdate } from './status-decision.js';

interface Waiter {
  readonly taskIds: readonly string[];
  readonly resolve: (ignored: string[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Writes the task statuses nodes report, many per Raft entry: submissions within `batchMs`
 * go into one store.batch, each re-checked inside the transaction (decideStatusUpdate: the
 * store may have moved since the call was checked). Each submitter learns which of its tasks
 * were not written. A failed write rejects every submitter of that batch; agents resend.
 */
export class StatusWriter {
  private pending = new Map<string, { nodeId: string; status: TaskStatus }>();
  private waiters: Waiter[] = [];
  private timer: TimerHandle | undefined;

  constructor(
    private readonly store: MemoryStore,
    private readonly clock: Clock,
    private readonly batchMs: number,
    private readonly logger: Logger,
  ) {}

  submit(nodeId: string, updates: ReadonlyArray<{ taskId: string; status: TaskStatus }>): Promise<string[]> {
    for (const u of updates) this.pending.set(u.taskId, { nodeId, status: u.status });
    return new Promise<string[]>((resolve, reject) => {
      this.waiters.push({ taskIds: updates.map((u) => u.taskId), resolve, reject });
      if (this.timer === undefined) this.timer = this.clock.setTimeout(() => void this.flush(), this.batchMs);
    });
  }

  /** Rejects whatever waits with `err` (the dispatcher stopped). */
  close(err: unknown): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = new Map();
    for (const w of waiters) w.reject(err);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const pending = this.pending;
    const waiters = this.waiters;
    this.pending = new Map();
    this.waiters = [];
    const ignored = new Set<string>();
    try {
      await this.store.batch((tx) => {
        for (const [taskId, { nodeId, status }] of pending) {
          const task = tx.get('task', taskId);
          const decision = decideStatusUpdate(task, nodeId, status);
          if (decision.kind !== 'write' || task === undefined) {
            ignored.add(taskId);
            continue;
          }
          tx.update('task', { ...task, status });
        }
      });
    } catch (err) {
      this.logger.warn({ err: errorMessage(err), tasks: pending.size }, 'writing task statuses failed');
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve(w.taskIds.filter((id) => ignored.has(id)));
  }
}
