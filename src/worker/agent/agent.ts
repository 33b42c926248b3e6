import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import { componentLogger, type Logger } from '../../log/logger.js';
import type { AssignmentsMessage, SessionMessage, SessionRequest, WeightedPeer } from '../../manager/dispatcher/messages.js';
import type { DeepPartial, NodeDescription } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Rng } from '../../util/rng.js';
import { withoutNulls } from '../../util/without-nulls.js';
import type { TaskExecutor } from '../executor/task-executor.js';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from './agent-config.js';
import { AssignmentSet } from './assignment-set.js';
import { backoffDelayMs } from './backoff.js';
import type { DispatcherConnector, StreamHandle } from './dispatcher-connection.js';
import { LogPublisher } from './log-publisher.js';
import { missingLogSource, type LogSource } from './log-source.js';
import { ManagerPicker } from './manager-picker.js';
import { SessionEmitter, type ConnectionState, type SessionEvents } from './session-events.js';
import { StatusReporter } from './status-reporter.js';

export interface AgentOptions {
  /** This node's ID (its certificate's CN); for logs and errors only. */
  readonly nodeId: string;
  /**
   * Managers to open the session to, host:port of their 2377. The FIRST is tried first (the
   * one the node joined through, or the node itself on a manager); the rest in random order.
   * Replaced by the dispatcher's list once a session is open.
   */
  readonly managers: readonly string[];
  /** Recorded as Node.status.addr; "" = the address the manager sees. */
  readonly advertiseAddr: string;
  /** What the node says about itself at each session start (hostname, addresses, version). */
  readonly description: () => DeepPartial<NodeDescription>;
  /** Runs what the node is assigned (the fixed contract of src/worker/executor). */
  readonly executor: TaskExecutor;
  /**
   * Where `service logs` reads this node's task lines (the executor in the daemon). Without
   * one every subscribed task ends with AGENT_NO_LOG_SOURCE.
   */
  readonly logSource?: LogSource;
  /** How to reach a manager (grpcDispatcherConnector in the daemon). */
  readonly connect: DispatcherConnector;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly config?: AgentConfigInput;
}

/** What `status()` says, for `tsswarm info` and tests. */
export interface AgentStatus {
  readonly state: 'stopped' | 'connecting' | 'connected';
  readonly managerAddr: string;
  readonly sessionId: string;
  readonly heartbeatPeriodMs: number;
  readonly assignedTasks: number;
  readonly pendingStatuses: number;
  /** Log subscriptions still being read or sent. */
  readonly logSubscriptions: number;
}

interface SessionOutcome {
  readonly connected: boolean;
  readonly err: TsswarmError;
}

/**
 * The agent of one node (swarmkit's agent + session): keeps ONE session to a manager's
 * dispatcher, heartbeats at the period the dispatcher gives, runs what it is assigned through
 * the executor and reports task status back.
 *
 * - Session: tries the known managers (ManagerPicker: the preferred one first, then all in
 *   random order); a follower's DISPATCHER_NOT_LEADER names the leader, which is dialled
 *   next. When the session stream, the assignments stream or a heartbeat fails, the session
 *   is dropped and the agent moves on with backoff (exponential with jitter, injected Rng).
 * - Assignments: the complete set, then changes, applied to an AssignmentSet; after every
 *   message the executor gets the COMPLETE set (executor.setAssignments). Between sessions
 *   the executor keeps its last set: tasks keep running while the managers fail over.
 * - Status: executor.onStatus changes are batched through UpdateTaskStatus; after every new
 *   session all current statuses are sent again (StatusReporter).
 * - Events for the daemon (on()): the node's Node object, the managers, the root CA, the
 *   network keys, the node's own network attachments, the heartbeat period, the connection
 *   state; each only when it changed.
 *
 * start() returns at once; stop() ends the session and resolves once the loop has ended (the
 * executor is NOT closed: its owner closes it). Single event loop; not reentrant.
 */
export class Agent {
  private readonly cfg: AgentConfig;
  private readonly log: Logger;
  private readonly emitter: SessionEmitter;
  private readonly picker: ManagerPicker;
  private readonly assigned = new AssignmentSet();
  private readonly reporter: StatusReporter;
  private readonly logs: LogPublisher;
  private loop: Promise<void> | undefined;
  private stopped = false;
  /** Ends the current session attempt or backoff wait (stop). */
  private interrupt: (() => void) | undefined;
  private current: { addr: string; sessionId: string } | undefined;
  private heartbeatPeriodMs: number;
  private readonly last: { node?: string; managers?: string; rootCa?: string; keys?: string; attachments?: string; period?: number } = {};

  constructor(private readonly opts: AgentOptions) {
    this.cfg = parseAgentConfig(opts.config);
    this.log = componentLogger(opts.logger, 'agent', { nodeId: opts.nodeId });
    this.emitter = new SessionEmitter((event, err) => this.log.error({ event, err: errorMessage(err) }, 'a session event listener threw'));
    this.picker = new ManagerPicker(opts.managers, opts.rng);
    this.heartbeatPeriodMs = this.cfg.defaultHeartbeatPeriodMs;
    this.reporter = new StatusReporter({
      clock: opts.clock, logger: this.log, batchMs: this.cfg.statusBatchMs, maxPerCall: this.cfg.maxStatusesPerCall,
      retryMs: this.cfg.statusRetryMs, rpcTimeoutMs: this.cfg.rpcTimeoutMs,
    });
    this.logs = new LogPublisher({
      nodeId: opts.nodeId, source: opts.logSource ?? missingLogSource(opts.nodeId), clock: opts.clock, logger: this.log,
      batchMs: this.cfg.logBatchMs, maxLinesPerMessage: this.cfg.maxLogLinesPerMessage, maxBytesPerMessage: this.cfg.maxLogBytesPerMessage,
    });
    opts.executor.onStatus((taskId, status) => {
      if (!this.stopped) this.reporter.record(taskId, status);
    });
  }

  /** Subscribes to a session event (see SessionEvents); returns the unsubscribe function. */
  on<E extends keyof SessionEvents>(event: E, listener: SessionEvents[E]): () => void {
    return this.emitter.on(event, listener);
  }

  /** Starts the session loop; throws AGENT_NO_MANAGER when no manager is known. */
  start(): void {
    if (this.stopped) throw new TsswarmError('AGENT_STOPPED', { nodeId: this.opts.nodeId });
    if (this.loop !== undefined) return;
    if (this.picker.known().length === 0) throw new TsswarmError('AGENT_NO_MANAGER', { nodeId: this.opts.nodeId });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reporter.close();
    this.interrupt?.();
    await this.loop;
  }

  status(): AgentStatus {
    return {
      state: this.stopped ? 'stopped' : this.current !== undefined ? 'connected' : 'connecting',
      managerAddr: this.current?.addr ?? '',
      sessionId: this.current?.sessionId ?? '',
      heartbeatPeriodMs: this.heartbeatPeriodMs,
      assignedTasks: this.assigned.list().length,
      pendingStatuses: this.reporter.pendingCount(),
      logSubscriptions: this.logs.activeCount(),
    };
  }

  /** The managers the agent knows now (host:port). */
  knownManagers(): readonly string[] {
    return this.picker.known();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const addr = this.picker.next();
      if (addr === undefined) break;
      const outcome = await this.runSession(addr);
      if (this.stopped) break;
      failures = outcome.connected ? 1 : failures + 1;
      const leaderAddr = outcome.err.code === 'DISPATCHER_NOT_LEADER' ? outcome.err.details.leaderAddr : undefined;
      let delay = backoffDelayMs(failures, this.cfg, this.opts.rng);
      if (typeof leaderAddr === 'string' && leaderAddr !== '' && leaderAddr !== addr) {
        this.picker.prefer(leaderAddr);
        // Straight to the named leader, unless redirects keep failing (then back off).
        if (failures <= 2) delay = 0;
      }
      this.log.info({ manager: addr, code: outcome.err.code, err: outcome.err.message, retryInMs: delay }, 'dispatcher session ended');
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.interrupt = undefined;
        resolve();
      }, ms);
      this.interrupt = () => {
        this.opts.clock.clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
    });
  }

  /** One session with one manager; resolves when it ends, never rejects. */
  private runSession(addr: string): Promise<SessionOutcome> {
    const conn = this.opts.connect(addr);
    return new Promise<SessionOutcome>((resolve) => {
      let sessionId = '';
      let over = false;
      let openTimer: TimerHandle | undefined;
      let heartbeatTimer: TimerHandle | undefined;
      // Filled once opened; finish() may run before (a stop, the open timeout).
      const streams: { session?: StreamHandle; assignments?: StreamHandle } = {};

      const finish = (err: TsswarmError): void => {
        if (over) return;
        over = true;
        this.interrupt = undefined;
        if (openTimer !== undefined) this.opts.clock.clearTimeout(openTimer);
        if (heartbeatTimer !== undefined) this.opts.clock.clearTimeout(heartbeatTimer);
        streams.session?.cancel();
        streams.assignments?.cancel();
        this.logs.stopAll();
        conn.close();
        this.reporter.disconnected();
        const connected = sessionId !== '';
        if (connected) {
          this.current = undefined;
          this.emit('connection', { state: 'disconnected', managerAddr: addr, reason: err.code });
        }
        resolve({ connected, err });
      };
      this.interrupt = () => finish(new TsswarmError('AGENT_STOPPED', { nodeId: this.opts.nodeId }));

      const scheduleHeartbeat = (periodMs: number): void => {
        heartbeatTimer = this.opts.clock.setTimeout(() => {
          heartbeatTimer = undefined;
          conn.heartbeat({ sessionId }, this.cfg.rpcTimeoutMs).then(
            (res) => {
              if (over) return;
              if (res.periodMs > 0) this.heartbeatPeriodMs = res.periodMs;
              scheduleHeartbeat(this.heartbeatPeriodMs);
            },
            (err: unknown) => finish(asTsswarmError(err, addr)),
          );
        }, periodMs);
      };

      const onFirstMessage = (message: SessionMessage): void => {
        sessionId = message.sessionId;
        if (openTimer !== undefined) this.opts.clock.clearTimeout(openTimer);
        openTimer = undefined;
        this.current = { addr, sessionId };
        this.log.info({ manager: addr, sessionId }, 'dispatcher session open');
        this.emit('connection', { state: 'connected', managerAddr: addr, sessionId });
        this.assigned.resetSequence();
        streams.assignments = conn.assignments({ sessionId }, {
          onMessage: (m) => this.onAssignments(m, finish),
          onError: finish,
        });
        this.reporter.connected(conn, sessionId, this.opts.executor.currentStatuses());
        scheduleHeartbeat(this.heartbeatPeriodMs);
      };

      openTimer = this.opts.clock.setTimeout(() => {
        finish(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr, reason: `no session within ${this.cfg.rpcTimeoutMs} ms` }));
      }, this.cfg.rpcTimeoutMs);
      const request: SessionRequest = { description: this.opts.description(), advertiseAddr: this.opts.advertiseAddr };
      streams.session = conn.session(request, {
        onMessage: (message) => {
          if (over) return;
          if (sessionId !== '' && message.sessionId !== sessionId) {
            finish(new TsswarmError('DISPATCHER_SESSION_INVALID', { sessionId, nodeId: this.opts.nodeId, reason: 'the dispatcher changed the session ID' }));
            return;
          }
          if (message.heartbeatPeriodMs > 0) this.heartbeatPeriodMs = message.heartbeatPeriodMs;
          const first = sessionId === '';
          this.applySessionMessage(message);
          if (first) onFirstMessage(message);
          if (!over) this.logs.update(conn, sessionId, message.logSubscriptions ?? []);
        },
        onError: finish,
      });
    });
  }

  private onAssignments(message: AssignmentsMessage, fail: (err: TsswarmError) => void): void {
    const result = this.assigned.apply(message);
    if (!result.ok) {
      fail(new TsswarmError('DISPATCHER_INVALID_REQUEST', { nodeId: this.opts.nodeId, reason: result.reason }));
      return;
    }
    this.opts.executor.setAssignments(this.assigned.list());
  }

  private applySessionMessage(message: SessionMessage): void {
    if (message.managers.length > 0) this.picker.replace(message.managers.map((m) => m.addr));
    this.emitIfChanged('managers', 'managers', JSON.stringify(message.managers), message.managers as readonly WeightedPeer[]);
    if (message.node !== undefined) this.emitIfChanged('node', 'node', JSON.stringify(message.node), message.node);
    if (message.rootCaPem !== '') this.emitIfChanged('rootCa', 'rootCa', message.rootCaPem, message.rootCaPem);
    this.emitIfChanged('networkKeys', 'keys', JSON.stringify(message.networkBootstrapKeys), message.networkBootstrapKeys);
    // A manager of an older version sends none: that reads as "no attachments". Absent
    // sub-messages (a Network's ipam, say) stay absent, not null, as the dataplane reads them.
    const attachments = withoutNulls(message.nodeAttachments ?? []);
    this.emitIfChanged('nodeAttachments', 'attachments', JSON.stringify(attachments), attachments);
    if (message.heartbeatPeriodMs > 0 && this.last.period !== message.heartbeatPeriodMs) {
      this.last.period = message.heartbeatPeriodMs;
      this.emit('heartbeatPeriod', message.heartbeatPeriodMs);
    }
  }

  private emitIfChanged<E extends keyof SessionEvents>(
    event: E, key: 'node' | 'managers' | 'rootCa' | 'keys' | 'attachments', fingerprint: string, value: Parameters<SessionEvents[E]>[0],
  ): void {
    if (this.last[key] === fingerprint) return;
    this.last[key] = fingerprint;
    this.emit(event, value);
  }

  private emit<E extends keyof SessionEvents>(event: E, value: Parameters<SessionEvents[E]>[0]): void {
    this.emitter.emit(event, value);
  }
}

function asTsswarmError(err: unknown, addr: string): TsswarmError {
  if (isTsswarmError(err)) return err;
  return new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr, reason: errorMessage(err) });
}

export type { ConnectionState };
