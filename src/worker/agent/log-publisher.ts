import { errorMessage, isTsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import type { LogSubscription, LogTaskError, PublishLogsMessage } from '../../manager/dispatcher/messages.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { DispatcherConnection, LogPublishStream } from './dispatcher-connection.js';
import { LineBatch, TailBuffer, diffSubscriptions } from './log-batch.js';
import type { LogLine, LogSource } from './log-source.js';

export interface LogPublisherOptions {
  readonly nodeId: string;
  readonly source: LogSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly batchMs: number;
  readonly maxLinesPerMessage: number;
  readonly maxBytesPerMessage: number;
}

/**
 * Serves the node's log subscriptions (swarmkit's agent logSubscriptions / PublishLogs): each
 * session message's list is compared with what runs (diffSubscriptions); a new subscription
 * opens a PublishLogs stream and reads each of its tasks from the LogSource, lines batched
 * (LineBatch, `batchMs`); a task that cannot be read is reported as a task error; a non-follow
 * subscription is closed once every task is read. A subscription that leaves the list, or the
 * session ending (stopAll), aborts its readers and cancels its stream.
 *
 * A finished subscription is remembered until the list stops naming it, so a session message
 * sent before the manager saw the close does not start it again.
 */
export class LogPublisher {
  private readonly runs = new Map<string, SubscriptionRun>();
  private target: { conn: DispatcherConnection; sessionId: string } | undefined;

  constructor(private readonly opts: LogPublisherOptions) {}

  /** The subscriptions listed by the latest session message of session `sessionId` on `conn`. */
  update(conn: DispatcherConnection, sessionId: string, subscriptions: readonly LogSubscription[]): void {
    // Session IDs are unique: a new one means a new session (its streams start over).
    if (this.target !== undefined && this.target.sessionId !== sessionId) this.stopAll();
    this.target = { conn, sessionId };
    const { start, stop } = diffSubscriptions(this.runs.keys(), subscriptions);
    for (const id of stop) {
      this.runs.get(id)?.stop();
      this.runs.delete(id);
    }
    for (const sub of start) {
      const run = new SubscriptionRun(sub, sessionId, conn.publishLogs(), this.opts);
      this.runs.set(sub.id, run);
      run.start();
    }
  }

  /** The session ended: every reader is aborted, every stream cancelled. */
  stopAll(): void {
    for (const run of this.runs.values()) run.stop();
    this.runs.clear();
    this.target = undefined;
  }

  /** Subscriptions still reading or sending (tests, status). */
  activeCount(): number {
    return [...this.runs.values()].filter((r) => r.active).length;
  }
}

/** One subscription: its task readers, its batch and its stream. */
class SubscriptionRun {
  private readonly abort = new AbortController();
  private readonly batch: LineBatch;
  private timer: TimerHandle | undefined;
  /** The chain of writes, in order; never rejects (a failure stops the run). */
  private sending: Promise<void> = Promise.resolve();
  private stopped = false;
  private done = false;

  constructor(
    private readonly sub: LogSubscription,
    private readonly sessionId: string,
    private readonly stream: LogPublishStream,
    private readonly opts: LogPublisherOptions,
  ) {
    this.batch = new LineBatch(opts.maxLinesPerMessage, opts.maxBytesPerMessage);
  }

  get active(): boolean {
    return !this.stopped && !this.done;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.clearTimer();
    this.stream.cancel();
  }

  private async run(): Promise<void> {
    // The first message names the subscription at once, so the manager can tell this stream
    // breaking (the node went away) even before any line was read.
    void this.send({});
    await Promise.all(this.sub.taskIds.map((taskId) => this.readTask(taskId)));
    if (this.stopped || this.sub.follow) return;
    await this.flush();
    await this.send({ close: true });
    if (this.stopped) return;
    try {
      await this.stream.finish();
    } catch (err) {
      this.opts.logger.warn({ subscriptionId: this.sub.id, err: errorMessage(err) }, 'the manager refused published logs');
    }
    this.done = true;
  }

  private async readTask(taskId: string): Promise<void> {
    const tail = !this.sub.follow && this.sub.tail > 0 ? new TailBuffer(this.sub.tail) : undefined;
    try {
      for await (const line of this.opts.source.readLogs(taskId, { follow: this.sub.follow, signal: this.abort.signal })) {
        if (this.stopped) return;
        if (tail !== undefined) tail.add(line);
        else await this.addLine(taskId, line);
      }
      for (const line of tail?.take() ?? []) await this.addLine(taskId, line);
    } catch (err) {
      if (this.stopped) return;
      // The task's lines so far go first, then its error.
      await this.flush();
      await this.send({ taskErrors: [taskErrorOf(taskId, this.opts.nodeId, err)] });
    }
  }

  private async addLine(taskId: string, line: LogLine): Promise<void> {
    if (this.batch.add(taskId, line)) await this.flush();
    else if (this.timer === undefined) this.timer = this.opts.clock.setTimeout(() => void this.flush(), this.opts.batchMs);
  }

  private flush(): Promise<void> {
    this.clearTimer();
    if (this.batch.size === 0) return this.sending;
    return this.send({ lines: this.batch.take() });
  }

  private send(part: Partial<PublishLogsMessage>): Promise<void> {
    const message: PublishLogsMessage = { sessionId: this.sessionId, subscriptionId: this.sub.id, lines: [], taskErrors: [], close: false, ...part };
    this.sending = this.sending
      .then(() => (this.stopped ? undefined : this.stream.write(message)))
      .catch((err: unknown) => {
        if (this.stopped) return;
        // Refused because the subscriber left meanwhile: routine, the session message withdraws it next.
        const routine = isTsswarmError(err, 'DISPATCHER_LOG_SUBSCRIPTION_INVALID');
        this.opts.logger[routine ? 'debug' : 'warn']({ subscriptionId: this.sub.id, err: errorMessage(err) }, 'publishing logs failed; the subscription stops');
        this.stop();
      });
    return this.sending;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A reader's failure as the wire carries it: the TsswarmError's code and details. */
export function taskErrorOf(taskId: string, nodeId: string, err: unknown): LogTaskError {
  if (isTsswarmError(err)) return { taskId, code: err.code, detailsJson: JSON.stringify(err.details) };
  return { taskId, code: 'LOGS_TASK_FAILED', detailsJson: JSON.stringify({ taskId, nodeId, reason: errorMessage(err) }) };
}
