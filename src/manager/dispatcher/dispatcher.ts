import { randomUUID } from 'node:crypto';
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import { componentLogger, type Logger } from '../../log/logger.js';
import type { Cluster, DeepPartial, Node, NodeDescription, Task, TaskStatus } from '../../objects/index.js';
import { taskStateValues } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Rng } from '../../util/rng.js';
import type { LogBroker } from '../logbroker/log-broker.js';
import { updateWithRetry, type MemoryStore, type Watcher } from '../store/index.js';
import { AssignmentTracker } from './assignment-tracker.js';
import { parseDispatcherConfig, type DispatcherConfig, type DispatcherConfigInput } from './dispatcher-config.js';
import { HeartbeatTracker, jitteredPeriod } from './heartbeat-tracker.js';
import type {
  AssignmentsMessage, HeartbeatResponse, PublishLogsMessage, SessionMessage, SessionRequest, UpdateTaskStatusRequest, UpdateTaskStatusResponse, WeightedPeer,
} from './messages.js';
import { clusterHeartbeatPeriodMs, sessionMessage } from './session-view.js';
import { decideStatusUpdate } from './status-decision.js';
import { StatusWriter } from './status-writer.js';

/** Where a server stream's messages go; end() closes it with an error (the gRPC edge maps it). */
export interface StreamSink<M> {
  send(message: M): void;
  end(err: TsswarmError): void;
}

export interface DispatcherOptions {
  readonly store: MemoryStore;
  /** The managers agents may dial (Raft voters with their 2377 address), leader weighted highest. */
  readonly managers: () => WeightedPeer[];
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly config?: DispatcherConfigInput;
  readonly newSessionId?: () => string;
  /**
   * The node this dispatcher runs on: start() does not mark it UNKNOWN (the leader is
   * evidently alive; `node ls` right after init or a restart would say otherwise).
   */
  readonly selfNodeId?: string;
  /**
   * The leader's log broker: attached while this dispatcher runs; its subscriptions go into
   * the session messages, PublishLogs calls go to it, and a node's session ending ends its parts.
   */
  readonly logs?: LogBroker;
}

interface OpenSession {
  readonly nodeId: string;
  readonly sessionId: string;
  /** Open Session and Assignments streams of this session; each entry ends its stream. */
  readonly streams: Set<(err: TsswarmError) => void>;
  /** Session streams and the last message each was sent (sent again only when it changed). */
  readonly sessionSinks: Map<StreamSink<SessionMessage>, string>;
}

/**
 * The managers' dispatcher (swarmkit's manager/dispatcher), run by the Raft LEADER only:
 * start() when this manager becomes leader, stop() when it stops leading.
 *
 * - Sessions: one per node (a newer one replaces the older). Opening one registers the node:
 *   its description and status READY (with its address) are written through Raft. The
 *   session stream is sent the node's view (session-view.ts) again whenever it changed.
 * - Heartbeats: deadlines in a HeartbeatTracker; a node silent for missedHeartbeats periods is
 *   marked DOWN (the orchestrator then moves its tasks) and its session forgotten. A new
 *   leader marks every node it finds UNKNOWN and gives it leaderGraceMultiplier x that long.
 * - Assignments: per stream, the complete set then batched changes (AssignmentTracker).
 * - Task status: checked (status-decision.ts) and written in batches (StatusWriter).
 *
 * Callers are the gRPC edge (dispatcher-service.ts), which has verified the caller's node ID.
 * Time is the injected Clock; single event loop.
 */
export class Dispatcher {
  private readonly cfg: DispatcherConfig;
  private readonly log: Logger;
  private readonly tracker: HeartbeatTracker;
  private readonly sessions = new Map<string, OpenSession>();
  private readonly statusWriter: StatusWriter;
  private readonly newSessionId: () => string;
  /** Nodes whose DOWN write failed; retried on every expiry check. */
  private readonly downPending = new Set<string>();
  private watcher: Watcher | undefined;
  private expiryTimer: TimerHandle | undefined;
  private managersTimer: TimerHandle | undefined;
  private managersFingerprint = '';
  private running = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.cfg = parseDispatcherConfig(opts.config);
    this.log = componentLogger(opts.logger, 'dispatcher');
    this.tracker = new HeartbeatTracker(this.cfg.missedHeartbeats);
    this.statusWriter = new StatusWriter(opts.store, opts.clock, this.cfg.statusBatchMs, this.log);
    this.newSessionId = opts.newSessionId ?? randomUUID;
  }

  /**
   * Takes over as the leader's dispatcher: every node not DOWN is marked UNKNOWN (this leader
   * has seen no heartbeat of it yet) and gets the leader grace period to open a session.
   * Rejects with the store's error if that write fails (the caller retries or steps down).
   */
  async start(): Promise<void> {
    if (this.running) return;
    const period = this.periodMs();
    const now = this.opts.clock.now();
    const nodes = this.opts.store.view((tx) => tx.list('node'));
    const inherited = nodes.filter((n) => n.status?.state !== 'DOWN');
    if (inherited.length > 0) {
      await this.opts.store.batch((tx) => {
        for (const id of inherited.map((n) => n.id)) {
          const node = tx.get('node', id);
          if (node === undefined || node.status?.state === 'UNKNOWN' || node.id === this.opts.selfNodeId) continue;
          tx.update('node', {
            ...node,
            status: { state: 'UNKNOWN', message: 'no heartbeat seen since a new leader took over', addr: node.status?.addr ?? '' },
          });
        }
      });
    }
    for (const node of inherited) this.tracker.register(node.id, now, period, this.cfg.leaderGraceMultiplier);
    this.running = true;
    this.opts.logs?.attach({
      hasSession: (nodeId) => (this.sessions.get(nodeId)?.sessionSinks.size ?? 0) > 0,
      subscriptionsChanged: (nodeIds) => {
        for (const nodeId of nodeIds) {
          const session = this.sessions.get(nodeId);
          if (session !== undefined) this.pushSessionMessage(session);
        }
      },
    });
    this.watchNodesAndCluster();
    this.scheduleExpiryCheck();
    this.scheduleManagersCheck();
    this.log.info({ nodes: inherited.length, heartbeatPeriodMs: period }, 'dispatcher started');
  }

  /** Stops dispatching: every stream ends with `reason` (DISPATCHER_NOT_LEADER from the runner). */
  stop(reason: TsswarmError): void {
    if (!this.running) return;
    this.running = false;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.expiryTimer !== undefined) this.opts.clock.clearTimeout(this.expiryTimer);
    if (this.managersTimer !== undefined) this.opts.clock.clearTimeout(this.managersTimer);
    for (const session of this.sessions.values()) this.endSession(session, reason);
    this.sessions.clear();
    this.opts.logs?.detach(reason);
    this.statusWriter.close(reason);
    this.log.info({ reason: reason.code }, 'dispatcher stopped');
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Session RPC: registers `nodeId` (the verified caller), replaces its older session, and
   * streams its session messages to `sink`. `observedAddr` is the host the call came from.
   * Resolves with the function that ends the stream (the client went away).
   */
  async openSession(nodeId: string, request: SessionRequest, observedAddr: string, sink: StreamSink<SessionMessage>): Promise<() => void> {
    this.requireRunning(nodeId);
    const known = this.opts.store.view((tx) => tx.get('node', nodeId));
    if (known === undefined) {
      throw new TsswarmError('DISPATCHER_INVALID_REQUEST', { nodeId, reason: 'no Node object has this ID (was the node removed?)' });
    }
    const addr = hostOf(request.advertiseAddr) || observedAddr;
    await this.registerNode(nodeId, request, addr);
    // The write may have outlived this leadership.
    this.requireRunning(nodeId);
    const previous = this.sessions.get(nodeId);
    if (previous !== undefined) {
      this.sessions.delete(nodeId);
      this.endSession(previous, new TsswarmError('DISPATCHER_SESSION_INVALID', {
        sessionId: previous.sessionId, nodeId, reason: 'a newer session of the same node replaced it',
      }));
      this.opts.logs?.sessionEnded(nodeId, 'a newer session of the node replaced it');
    }
    const session: OpenSession = { nodeId, sessionId: this.newSessionId(), streams: new Set(), sessionSinks: new Map() };
    this.sessions.set(nodeId, session);
    this.downPending.delete(nodeId);
    this.tracker.register(nodeId, this.opts.clock.now(), this.periodMs());
    const end = (err: TsswarmError): void => sink.end(err);
    session.streams.add(end);
    session.sessionSinks.set(sink, '');
    this.log.info({ nodeId, sessionId: session.sessionId, addr }, 'node session opened');
    this.pushSessionMessage(session);
    return () => {
      session.streams.delete(end);
      session.sessionSinks.delete(sink);
    };
  }

  /**
   * Writes the node's description and READY status, redone on a version conflict: the
   * allocation pass gives a node that just joined its ingress address at about this moment.
   */
  private async registerNode(nodeId: string, request: SessionRequest, addr: string): Promise<void> {
    await updateWithRetry(this.opts.store, (tx) => {
      const node = tx.get('node', nodeId);
      if (node === undefined) return;
      tx.update('node', {
        ...node,
        description: mergeDescription(node.description, request.description),
        status: { state: 'READY', message: '', addr },
      });
    });
  }

  /** Heartbeat RPC: pushes the node's deadline back; the reply names the next period. */
  heartbeat(nodeId: string, sessionId: string): HeartbeatResponse {
    this.requireSession(nodeId, sessionId);
    const period = this.periodMs();
    if (!this.tracker.beat(nodeId, this.opts.clock.now(), period)) {
      throw new TsswarmError('DISPATCHER_SESSION_INVALID', { sessionId, nodeId, reason: 'the node missed its heartbeats and is marked down' });
    }
    return { periodMs: jitteredPeriod(period, this.cfg.heartbeatJitter, this.opts.rng.float()) };
  }

  /** Assignments RPC: the complete set, then batched changes, until the session ends. */
  assignments(nodeId: string, sessionId: string, sink: StreamSink<AssignmentsMessage>): () => void {
    const session = this.requireSession(nodeId, sessionId);
    const tracker = new AssignmentTracker(nodeId);
    const { result, watcher } = this.opts.store.viewAndWatch((tx) => tx.tasksByNode(nodeId), {
      kinds: ['task'],
      match: (e) => e.kind === 'task' && (e.object.nodeId === nodeId || e.oldObject?.nodeId === nodeId),
    });
    let timer: TimerHandle | undefined;
    let over = false;
    const close = (): void => {
      if (over) return;
      over = true;
      watcher.close();
      if (timer !== undefined) this.opts.clock.clearTimeout(timer);
      session.streams.delete(end);
    };
    const end = (err: TsswarmError): void => {
      if (over) return;
      close();
      sink.end(err);
    };
    session.streams.add(end);
    sink.send(tracker.complete(result));
    const flush = (): void => {
      timer = undefined;
      for (let m = tracker.takeIncremental(this.cfg.maxAssignmentsPerMessage); m !== undefined; m = tracker.takeIncremental(this.cfg.maxAssignmentsPerMessage)) {
        if (over) return;
        sink.send(m);
      }
    };
    void (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind !== 'task') continue;
          tracker.observe(event.action, event.object);
          if (timer === undefined && !over) timer = this.opts.clock.setTimeout(flush, this.cfg.assignmentBatchMs);
        }
      } catch (err) {
        // Too slow a reader (STORE_WATCH_TOO_SLOW): the agent reconnects and gets a complete set.
        end(isTsswarmError(err) ? err : new TsswarmError('INTERNAL', { detail: errorMessage(err) }));
      }
    })();
    return close;
  }

  /**
   * UpdateTaskStatus RPC: refuses the whole call (nothing written) if any task is another
   * node's; otherwise queues the statuses for the next batched write and resolves once written.
   */
  async updateTaskStatus(nodeId: string, request: UpdateTaskStatusRequest): Promise<UpdateTaskStatusResponse> {
    this.requireSession(nodeId, request.sessionId);
    const updates: Array<{ taskId: string; status: TaskStatus }> = [];
    for (const u of request.updates) {
      if (u.taskId === '' || u.status === undefined || !Object.hasOwn(taskStateValues, u.status.state)) {
        throw new TsswarmError('DISPATCHER_INVALID_REQUEST', { nodeId, reason: `a status update for task "${u.taskId}" has no task ID or no valid state` });
      }
      updates.push({ taskId: u.taskId, status: u.status });
    }
    this.opts.store.view((tx) => {
      for (const u of updates) {
        const decision = decideStatusUpdate(tx.get('task', u.taskId) as Task | undefined, nodeId, u.status);
        if (decision.kind === 'refuse') throw new TsswarmError('DISPATCHER_TASK_NOT_OWNED', { nodeId, taskId: u.taskId, ownerId: decision.ownerId });
      }
    });
    if (updates.length === 0) return { ignoredTaskIds: [] };
    return { ignoredTaskIds: await this.statusWriter.submit(nodeId, updates) };
  }

  /**
   * PublishLogs RPC, one message of the stream: the caller's session must be open, and the
   * broker checks the subscription part is the caller's. Resolves when the subscriber can
   * take more (backpressure).
   */
  async publishLogs(nodeId: string, message: PublishLogsMessage): Promise<void> {
    this.requireSession(nodeId, message.sessionId);
    const logs = this.opts.logs;
    if (logs === undefined) {
      throw new TsswarmError('DISPATCHER_LOG_SUBSCRIPTION_INVALID', {
        nodeId, subscriptionId: message.subscriptionId || '(none)', reason: 'this dispatcher has no log broker',
      });
    }
    await logs.publish(nodeId, message);
  }

  /** A PublishLogs stream of the caller ended before its part was closed. */
  publishLogsBroken(nodeId: string, subscriptionId: string, reason: string): void {
    this.opts.logs?.streamBroken(nodeId, subscriptionId, reason);
  }

  /** Open sessions by node ID (tests, `info`). */
  sessionCount(): number {
    return this.sessions.size;
  }

  private periodMs(): number {
    const cluster = this.opts.store.view((tx) => tx.list('cluster')[0]) as Cluster | undefined;
    return clusterHeartbeatPeriodMs(cluster, this.cfg.defaultHeartbeatPeriodMs);
  }

  private requireRunning(nodeId: string): void {
    if (!this.running) throw new TsswarmError('DISPATCHER_SESSION_INVALID', { sessionId: '(none)', nodeId, reason: 'the dispatcher is not running' });
  }

  private requireSession(nodeId: string, sessionId: string): OpenSession {
    this.requireRunning(nodeId);
    const session = this.sessions.get(nodeId);
    if (session === undefined || session.sessionId !== sessionId) {
      throw new TsswarmError('DISPATCHER_SESSION_INVALID', {
        sessionId, nodeId, reason: session === undefined ? 'the node has no open session' : 'a newer session of the node replaced it',
      });
    }
    return session;
  }

  private endSession(session: OpenSession, err: TsswarmError): void {
    for (const end of [...session.streams]) end(err);
    session.streams.clear();
    session.sessionSinks.clear();
  }

  private pushSessionMessage(session: OpenSession): void {
    if (session.sessionSinks.size === 0) return;
    const { node, cluster } = this.opts.store.view((tx) => ({ node: tx.get('node', session.nodeId), cluster: tx.list('cluster')[0] }));
    const message = sessionMessage(
      session.sessionId, node, cluster, this.opts.managers(), this.cfg.defaultHeartbeatPeriodMs, this.opts.logs?.subscriptionsFor(session.nodeId) ?? [],
    );
    const fingerprint = JSON.stringify(message);
    for (const [sink, last] of session.sessionSinks) {
      if (last === fingerprint) continue;
      session.sessionSinks.set(sink, fingerprint);
      sink.send(message);
    }
  }

  private watchNodesAndCluster(): void {
    const watcher = this.opts.store.watch({ kinds: ['node', 'cluster'] });
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind === 'cluster') for (const s of this.sessions.values()) this.pushSessionMessage(s);
          else {
            const session = this.sessions.get(event.object.id);
            if (session !== undefined) this.pushSessionMessage(session);
          }
        }
      } catch (err) {
        if (!this.running) return;
        // Fell behind: start over (the next push compares against what each sink last got).
        this.log.warn({ err: errorMessage(err) }, 'session watch restarted');
        for (const s of this.sessions.values()) this.pushSessionMessage(s);
        this.watchNodesAndCluster();
      }
    })();
  }

  private scheduleManagersCheck(): void {
    this.managersTimer = this.opts.clock.setTimeout(() => {
      if (!this.running) return;
      const fingerprint = JSON.stringify(this.opts.managers());
      if (fingerprint !== this.managersFingerprint) {
        this.managersFingerprint = fingerprint;
        for (const s of this.sessions.values()) this.pushSessionMessage(s);
      }
      this.scheduleManagersCheck();
    }, this.cfg.managersCheckMs);
  }

  private scheduleExpiryCheck(): void {
    this.expiryTimer = this.opts.clock.setTimeout(() => {
      if (!this.running) return;
      for (const nodeId of this.tracker.takeExpired(this.opts.clock.now())) {
        const session = this.sessions.get(nodeId);
        if (session !== undefined) {
          this.sessions.delete(nodeId);
          this.endSession(session, new TsswarmError('DISPATCHER_SESSION_INVALID', {
            sessionId: session.sessionId, nodeId, reason: `no heartbeat for ${this.cfg.missedHeartbeats} periods`,
          }));
          this.opts.logs?.sessionEnded(nodeId, `no heartbeat for ${this.cfg.missedHeartbeats} periods`);
        }
        this.downPending.add(nodeId);
      }
      if (this.downPending.size > 0) void this.markDown([...this.downPending]);
      this.scheduleExpiryCheck();
    }, this.cfg.expiryCheckMs);
  }

  private async markDown(nodeIds: string[]): Promise<void> {
    try {
      await this.opts.store.update((tx) => {
        for (const nodeId of nodeIds) {
          // A node that opened a new session meanwhile is alive.
          if (this.sessions.has(nodeId) || !this.downPending.has(nodeId)) continue;
          const node = tx.get('node', nodeId);
          if (node === undefined || node.status?.state === 'DOWN') continue;
          tx.update('node', { ...node, status: { state: 'DOWN', message: 'heartbeat failure', addr: node.status?.addr ?? '' } });
        }
      });
      for (const nodeId of nodeIds) this.downPending.delete(nodeId);
      this.log.warn({ nodes: nodeIds }, 'nodes marked down: heartbeats stopped');
    } catch (err) {
      this.log.warn({ err: errorMessage(err), nodes: nodeIds }, 'marking nodes down failed; will retry');
    }
  }
}

/** The host part of host:port (or the address itself); "" stays "". */
function hostOf(addr: string): string {
  return addr.trim().replace(/^\[?(.*?)\]?:\d+$/, '$1');
}

/** The node's own report replaces the description; fields it leaves empty keep the old value. */
function mergeDescription(old: NodeDescription | undefined, reported: DeepPartial<NodeDescription> | undefined): DeepPartial<NodeDescription> {
  const r = reported ?? {};
  return {
    hostname: r.hostname || old?.hostname || '',
    addresses: r.addresses !== undefined && r.addresses.length > 0 ? [...r.addresses] : [...(old?.addresses ?? [])],
    engineVersion: r.engineVersion || old?.engineVersion || '',
    engineLabels: { ...(old?.engineLabels ?? {}), ...(r.engineLabels ?? {}) },
    ...(r.platform !== undefined ? { platform: r.platform } : old?.platform !== undefined ? { platform: old.platform } : {}),
    ...(r.resources !== undefined ? { resources: r.resources } : old?.resources !== undefined ? { resources: old.resources } : {}),
  } as DeepPartial<NodeDescription>;
}

export type { Node };
