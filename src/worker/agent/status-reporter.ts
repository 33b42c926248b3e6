import { isTsswarmError, errorMessage } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import type { TaskStatus } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { DispatcherConnection } from './dispatcher-connection.js';

export interface StatusReporterOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly batchMs: number;
  readonly maxPerCall: number;
  readonly retryMs: number;
  readonly rpcTimeoutMs: number;
}

/**
 * Forwards the executor's task status changes to the dispatcher. Only the LATEST status of
 * each task is kept while unsent (states only grow, so an older one carries nothing the newer
 * lacks), and changes within `batchMs` go out in one UpdateTaskStatus call. While no session
 * is open they wait; on a new session the agent resends every current status (the old
 * manager may have died before writing them). A task the dispatcher says is not this node's
 * (DISPATCHER_TASK_NOT_OWNED) is dropped, so one moved task cannot block the others.
 */
export class StatusReporter {
  private readonly pending = new Map<string, TaskStatus>();
  private target: { conn: DispatcherConnection; sessionId: string } | undefined;
  private timer: TimerHandle | undefined;
  private inFlight = false;
  private closed = false;

  constructor(private readonly opts: StatusReporterOptions) {}

  /** A status change from the executor. */
  record(taskId: string, status: TaskStatus): void {
    this.pending.set(taskId, status);
    this.schedule(this.opts.batchMs);
  }

  /** A session opened: send `current` (every status the executor knows) and what is pending. */
  connected(conn: DispatcherConnection, sessionId: string, current: ReadonlyMap<string, TaskStatus>): void {
    for (const [taskId, status] of current) if (!this.pending.has(taskId)) this.pending.set(taskId, status);
    this.target = { conn, sessionId };
    this.schedule(0);
  }

  disconnected(): void {
    this.target = undefined;
    this.cancelTimer();
  }

  /** How many task statuses wait to be sent. */
  pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.closed = true;
    this.disconnected();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.closed || this.target === undefined || this.inFlight || this.timer !== undefined || this.pending.size === 0) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    const target = this.target;
    if (target === undefined || this.pending.size === 0) return;
    const batch = [...this.pending].slice(0, this.opts.maxPerCall);
    this.inFlight = true;
    let retryIn = 0;
    try {
      await target.conn.updateTaskStatus(
        { sessionId: target.sessionId, updates: batch.map(([taskId, status]) => ({ taskId, status })) },
        this.opts.rpcTimeoutMs,
      );
      // Drop what was sent unless the executor reported a newer status meanwhile.
      for (const [taskId, status] of batch) if (this.pending.get(taskId) === status) this.pending.delete(taskId);
    } catch (err) {
      if (isTsswarmError(err) && err.code === 'DISPATCHER_TASK_NOT_OWNED' && typeof err.details.taskId === 'string') {
        this.opts.logger.warn({ taskId: err.details.taskId }, 'the dispatcher says this task is not ours; its status is dropped');
        this.pending.delete(err.details.taskId);
      } else {
        this.opts.logger.info({ err: errorMessage(err), tasks: batch.length }, 'task status report failed; will retry');
        retryIn = this.opts.retryMs;
      }
    } finally {
      this.inFlight = false;
    }
    // A session that opened while this call was in flight could not schedule: do it now.
    this.schedule(this.target === target ? retryIn : 0);
  }
}
