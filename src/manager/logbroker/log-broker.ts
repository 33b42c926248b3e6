import { randomUUID } from 'node:crypto';
import { TsswarmError, errorCatalog, type ErrorCode, type ErrorDetails } from '../../errors/index.js';
import { componentLogger, type Logger } from '../../log/logger.js';
import type { LogSubscription, LogTaskError, PublishLogsMessage } from '../dispatcher/messages.js';
import { parseLogBrokerConfig, type LogBrokerConfig, type LogBrokerConfigInput } from './log-broker-config.js';
import { LogQueue } from './log-queue.js';
import { planSubscription, subscriptionsForNode, type LogTarget } from './subscription-plan.js';
import { SubscriptionProgress } from './subscription-progress.js';

/** One line of a task, as the subscriber gets it. */
export interface BrokerLogLine {
  readonly kind: 'line';
  readonly taskId: string;
  readonly nodeId: string;
  readonly stream: 'stdout' | 'stderr';
  /** Unix ms, as the node's runtime stamped the line. */
  readonly timestampMs: number;
  readonly line: string;
}

/**
 * A task's part ended without all its lines: its node is down or has no session
 * (LOGS_NODE_UNAVAILABLE), cannot read the task (TASK_NOT_FOUND, AGENT_NO_LOG_SOURCE, ...),
 * or its stream broke. The other tasks go on; print it as a warning.
 */
export interface BrokerLogError {
  readonly kind: 'error';
  readonly taskId: string;
  readonly nodeId: string;
  readonly error: TsswarmError;
}

export type BrokerLogItem = BrokerLogLine | BrokerLogError;

export interface LogSubscribeRequest {
  /** The tasks and the nodes that run them (Task.nodeId). */
  readonly tasks: readonly LogTarget[];
  /** Keep delivering new lines until `signal` aborts or the reader leaves. */
  readonly follow: boolean;
  /** Last lines per task (0 or absent = all); non-follow only. */
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

/**
 * What the broker needs of the leader's dispatcher (implemented by it, attached while it runs).
 */
export interface LogSessionPort {
  /** Whether the node has a session whose session stream is open (it will hear of a subscription). */
  hasSession(nodeId: string): boolean;
  /** The subscriptions of these nodes changed: send their session messages again. */
  subscriptionsChanged(nodeIds: readonly string[]): void;
}

export interface LogBrokerOptions {
  readonly logger: Logger;
  /** The refusal when no dispatcher is attached (this manager does not lead). */
  readonly notLeader: () => TsswarmError;
  readonly config?: LogBrokerConfigInput;
  readonly newSubscriptionId?: () => string;
}

interface Subscription {
  readonly id: string;
  readonly follow: boolean;
  readonly tail: number;
  readonly progress: SubscriptionProgress;
  readonly queue: LogQueue<BrokerLogItem>;
  readonly unlisten: () => void;
}

/**
 * The leader's log broker (swarmkit's manager/logbroker): `service logs` subscribes to tasks;
 * each node that runs some of them learns of its part through its session message and
 * publishes the lines (PublishLogs, through the dispatcher); the subscriber gets them as one
 * async iterable.
 *
 * - A non-follow subscription ends when every node closed or failed its part; a follow one
 *   when the signal aborts or the reader leaves (or every part failed: nothing can come).
 *   Leaving withdraws it from the nodes' session messages, so their readers stop.
 * - A node without a session, whose session ends, or whose stream breaks, ends its part with
 *   a BrokerLogError per open task (LOGS_NODE_UNAVAILABLE) instead of hanging.
 * - A node publishes only its own open part (DISPATCHER_LOG_SUBSCRIPTION_INVALID otherwise).
 *
 * Decisions are in subscription-plan.ts and subscription-progress.ts; this class only routes.
 * Single event loop.
 */
export class LogBroker {
  private readonly cfg: LogBrokerConfig;
  private readonly log: Logger;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly newId: () => string;
  private port: LogSessionPort | undefined;

  constructor(private readonly opts: LogBrokerOptions) {
    this.cfg = parseLogBrokerConfig(opts.config);
    this.log = componentLogger(opts.logger, 'logbroker');
    this.newId = opts.newSubscriptionId ?? randomUUID;
  }

  /** The dispatcher started (this manager leads). */
  attach(port: LogSessionPort): void {
    this.port = port;
  }

  /** The dispatcher stopped: every subscription's reader throws `reason`. */
  detach(reason: TsswarmError): void {
    this.port = undefined;
    for (const sub of [...this.subscriptions.values()]) this.finish(sub, reason);
  }

  /**
   * Subscribes to the lines of `tasks`. The nodes are told at once; the iterable yields lines
   * and per-task errors, and ends as described on the class. Throws the notLeader error when
   * no dispatcher is attached.
   */
  subscribe(request: LogSubscribeRequest): AsyncIterable<BrokerLogItem> {
    const port = this.port;
    if (port === undefined) throw this.opts.notLeader();
    const tail = Math.max(0, Math.floor(request.tail ?? 0));
    const plan = planSubscription(request.tasks, (nodeId) => port.hasSession(nodeId));
    const id = this.newId();
    const signal = request.signal;
    const onAbort = (): void => queue.leave();
    const queue: LogQueue<BrokerLogItem> = new LogQueue(this.cfg.maxBufferedLines, () => this.withdraw(id));
    const sub: Subscription = {
      id, follow: request.follow, tail, progress: new SubscriptionProgress(plan.parts), queue,
      unlisten: () => signal?.removeEventListener('abort', onAbort),
    };
    void queue.push(plan.unavailable.map((t) => unavailable(t.taskId, t.nodeId, t.nodeId === ''
      ? 'the task was never scheduled on a node'
      : 'the node has no session with the leader (down or disconnected)')));
    if (sub.progress.complete()) {
      queue.end();
      return queue;
    }
    this.subscriptions.set(id, sub);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.log.debug({ subscriptionId: id, nodes: sub.progress.nodes(), follow: sub.follow }, 'log subscription opened');
    port.subscriptionsChanged(sub.progress.nodes());
    if (signal?.aborted === true) queue.leave();
    return queue;
  }

  /** What the node's session message lists now. */
  subscriptionsFor(nodeId: string): LogSubscription[] {
    return subscriptionsForNode(
      [...this.subscriptions.values()].map((s) => ({ id: s.id, follow: s.follow, tail: s.tail, openTasks: (n: string) => s.progress.openTasks(n) })),
      nodeId,
    );
  }

  /**
   * A PublishLogs message from `nodeId` (the verified caller). Checks it all before taking
   * anything; resolves when the subscriber's queue has room again.
   */
  async publish(nodeId: string, message: PublishLogsMessage): Promise<void> {
    const sub = this.subscriptions.get(message.subscriptionId);
    const refuse = (reason: string): TsswarmError =>
      new TsswarmError('DISPATCHER_LOG_SUBSCRIPTION_INVALID', { nodeId, subscriptionId: message.subscriptionId || '(none)', reason });
    if (sub === undefined) throw refuse('no such subscription is open (it ended or was withdrawn)');
    if (!sub.progress.hasPart(nodeId)) throw refuse('the subscription has no open part on this node');
    for (const id of [...message.lines.map((l) => l.taskId), ...message.taskErrors.map((e) => e.taskId)]) {
      if (!sub.progress.owns(nodeId, id)) throw refuse(`task ${id || '(none)'} is not in this node's part`);
    }
    const items: BrokerLogItem[] = message.lines.map((l) => ({
      kind: 'line', taskId: l.taskId, nodeId, stream: l.stream === 'LOG_STREAM_STDERR' ? 'stderr' : 'stdout',
      timestampMs: l.timestampMs, line: typeof l.data === 'string' ? l.data : Buffer.from(l.data).toString('utf8'),
    }));
    for (const e of message.taskErrors) {
      if (sub.progress.endTask(nodeId, e.taskId)) items.push({ kind: 'error', taskId: e.taskId, nodeId, error: taskError(e, nodeId) });
    }
    if (message.close) sub.progress.closeNode(nodeId);
    const ended = message.taskErrors.length > 0 || message.close;
    const pushed = sub.queue.push(items);
    if (ended) this.partsChanged(sub, [nodeId]);
    await pushed;
  }

  /** The node's PublishLogs stream of `subscriptionId` ended without closing its part. */
  streamBroken(nodeId: string, subscriptionId: string, reason: string): void {
    const sub = this.subscriptions.get(subscriptionId);
    if (sub === undefined || !sub.progress.hasPart(nodeId)) return;
    this.failPart(sub, nodeId, `its log stream ended before all lines were sent: ${reason}`);
  }

  /** The node's session ended (replaced, expired): its open parts end with an error. */
  sessionEnded(nodeId: string, reason: string): void {
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.progress.hasPart(nodeId)) this.failPart(sub, nodeId, `its session with the leader ended: ${reason}`);
    }
  }

  /** Open subscriptions (tests, `info`). */
  subscriptionCount(): number {
    return this.subscriptions.size;
  }

  private failPart(sub: Subscription, nodeId: string, reason: string): void {
    const tasks = sub.progress.failNode(nodeId);
    void sub.queue.push(tasks.map((taskId) => unavailable(taskId, nodeId, reason)));
    this.partsChanged(sub, [nodeId]);
  }

  /** Some parts ended: tell the nodes, and end the subscription once nothing is open. */
  private partsChanged(sub: Subscription, nodeIds: readonly string[]): void {
    if (sub.progress.complete()) this.finish(sub);
    this.port?.subscriptionsChanged(nodeIds);
  }

  /** The reader left or aborted: withdraw from every node still serving it. */
  private withdraw(id: string): void {
    const sub = this.subscriptions.get(id);
    if (sub === undefined) return;
    const nodes = sub.progress.nodes();
    this.subscriptions.delete(id);
    sub.unlisten();
    this.log.debug({ subscriptionId: id, nodes }, 'log subscription withdrawn');
    this.port?.subscriptionsChanged(nodes);
  }

  private finish(sub: Subscription, err?: TsswarmError): void {
    const nodes = sub.progress.nodes();
    this.subscriptions.delete(sub.id);
    sub.unlisten();
    if (err === undefined) sub.queue.end();
    else sub.queue.fail(err);
    if (nodes.length > 0) this.port?.subscriptionsChanged(nodes);
  }
}

function unavailable(taskId: string, nodeId: string, reason: string): BrokerLogError {
  return { kind: 'error', taskId, nodeId, error: new TsswarmError('LOGS_NODE_UNAVAILABLE', { taskId, nodeId: nodeId || '(none)', reason }) };
}

/** The node's error for a task, rebuilt from its code and details (as the gRPC edge does). */
export function taskError(e: LogTaskError, nodeId: string): TsswarmError {
  let details: ErrorDetails = {};
  try {
    const parsed: unknown = JSON.parse(e.detailsJson || '{}');
    if (parsed !== null && typeof parsed === 'object') details = parsed as ErrorDetails;
  } catch {
    // A node of another version: the code alone still says what happened.
  }
  if (Object.hasOwn(errorCatalog, e.code)) return new TsswarmError(e.code as ErrorCode, details);
  return new TsswarmError('LOGS_TASK_FAILED', { taskId: e.taskId, nodeId, reason: `the node reported ${e.code || 'an unknown error'}` });
}
