import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../../errors/index.js';
import { componentLogger, type Logger } from '../../log/logger.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Rng } from '../../util/rng.js';
import type { NodeRole } from '../ca/index.js';
import type { RaftNodeStatus } from '../raft/node/index.js';
import { LogBroker, type BrokerLogItem, type LogBrokerConfigInput, type LogSubscribeRequest } from '../logbroker/index.js';
import type { MemoryStore } from '../store/index.js';
import { Dispatcher } from './dispatcher.js';
import type { DispatcherConfigInput } from './dispatcher-config.js';
import { loadDispatcherProto } from './dispatcher-proto.js';
import { dispatcherServiceImplementation } from './dispatcher-service.js';
import type { WeightedPeer } from './messages.js';

/** Weight of the leader in session messages; agents prefer it (followers only redirect). */
const LEADER_WEIGHT = 10;
const FOLLOWER_WEIGHT = 1;

/** Roles whose certificates may call the Dispatcher: every node keeps a session. */
export const DISPATCHER_CALLER_ROLES: readonly NodeRole[] = ['swarm-worker', 'swarm-manager'];

export interface ManagerDispatcherOptions {
  readonly store: MemoryStore;
  /** The Raft node's status (bound late: the service is registered before Raft starts). */
  readonly raftStatus: () => RaftNodeStatus;
  /** Waits until this leader has applied everything committed (a Raft read index). */
  readonly catchUp: () => Promise<void>;
  /** The caller's node ID from its verified certificate (roles DISPATCHER_CALLER_ROLES). */
  readonly callerNodeId: (call: unknown) => string;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly config?: DispatcherConfigInput;
  /** ms between checks of this manager's Raft role (the driver has no leadership event). */
  readonly pollMs?: number;
  readonly logBrokerConfig?: LogBrokerConfigInput;
}

/** The managers an agent may dial: Raft voters with an address, the leader weighted highest. */
export function managerPeers(status: RaftNodeStatus): WeightedPeer[] {
  return status.members
    .filter((m) => !m.learner && m.addr !== '' && m.addr !== 'unknown')
    .map((m) => ({ nodeId: m.id, addr: m.addr, weight: m.id === status.leaderId ? LEADER_WEIGHT : FOLLOWER_WEIGHT }));
}

/** A follower's refusal, naming the leader when one is known. */
export function notLeaderError(status: RaftNodeStatus): TsswarmError {
  const known = status.leaderId !== '' && status.leaderAddr !== '' && status.leaderAddr !== 'unknown' && status.leaderId !== status.id;
  return new TsswarmError('DISPATCHER_NOT_LEADER', {
    nodeId: status.id,
    leaderId: known ? status.leaderId : '(none yet)',
    leaderAddr: known ? status.leaderAddr : '',
  });
}

/**
 * The dispatcher of one manager: the Dispatcher gRPC service it serves on 2377 (always; a
 * follower refuses with DISPATCHER_NOT_LEADER), and the Dispatcher itself, run only while
 * this manager leads: started once it became leader and caught up, stopped (every stream
 * ended with DISPATCHER_NOT_LEADER, so agents move) as soon as it is not.
 */
export class ManagerDispatcher {
  private readonly log: Logger;
  private dispatcher: Dispatcher | undefined;
  private starting = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** The leader's log broker; serves subscriptions while this manager's dispatcher runs. */
  private readonly logs: LogBroker;

  constructor(private readonly opts: ManagerDispatcherOptions) {
    this.log = componentLogger(opts.logger, 'dispatcher-runner');
    this.logs = new LogBroker({
      logger: opts.logger,
      notLeader: () => notLeaderError(opts.raftStatus()),
      ...(opts.logBrokerConfig !== undefined ? { config: opts.logBrokerConfig } : {}),
    });
  }

  /**
   * `service logs`: the lines of `request.tasks` (task ID + the node running it), from every
   * node that runs one, as one async iterable (see LogBroker). Throws DISPATCHER_NOT_LEADER
   * (naming the leader) on a manager that does not lead: call it on the leader.
   */
  subscribeLogs(request: LogSubscribeRequest): AsyncIterable<BrokerLogItem> {
    const d = this.dispatcher;
    if (d === undefined || !d.isRunning) throw notLeaderError(this.opts.raftStatus());
    return this.logs.subscribe(request);
  }

  /** The service definition and handlers to add to the 2377 server. */
  service(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
    return {
      definition: loadDispatcherProto().dispatcherService,
      implementation: dispatcherServiceImplementation({
        current: () => this.dispatcher,
        notLeader: () => notLeaderError(this.opts.raftStatus()),
        callerNodeId: this.opts.callerNodeId,
        logger: componentLogger(this.opts.logger, 'dispatcher-api'),
      }),
    };
  }

  /** Method path -> roles, for the 2377 authorization interceptor. */
  access(): Record<string, readonly NodeRole[]> {
    const access: Record<string, readonly NodeRole[]> = {};
    for (const method of Object.values(loadDispatcherProto().dispatcherService)) access[method.path] = DISPATCHER_CALLER_ROLES;
    return access;
  }

  /** Starts following this manager's Raft role (call once Raft runs). */
  run(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.check();
  }

  /** The running dispatcher (tests, `info`). */
  current(): Dispatcher | undefined {
    return this.dispatcher;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.stopDispatcher();
  }

  private stopDispatcher(): void {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d === undefined) return;
    let reason: TsswarmError;
    try {
      reason = notLeaderError(this.opts.raftStatus());
    } catch {
      reason = new TsswarmError('DISPATCHER_NOT_LEADER', { nodeId: '(stopping)', leaderId: '(none yet)', leaderAddr: '' });
    }
    d.stop(reason);
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    let leader = false;
    try {
      leader = this.opts.raftStatus().role === 'leader';
    } catch {
      leader = false;
    }
    if (!leader && this.dispatcher !== undefined) {
      this.log.info('no longer the leader; dispatcher stops');
      this.stopDispatcher();
    } else if (leader && this.dispatcher === undefined && !this.starting) {
      void this.startDispatcher();
    }
    this.timer = this.opts.clock.setTimeout(() => this.check(), this.opts.pollMs ?? 100);
  }

  private async startDispatcher(): Promise<void> {
    this.starting = true;
    try {
      await this.opts.catchUp();
      const d = new Dispatcher({
        store: this.opts.store,
        managers: () => managerPeers(this.opts.raftStatus()),
        selfNodeId: this.opts.raftStatus().id,
        logs: this.logs,
        clock: this.opts.clock,
        rng: this.opts.rng,
        logger: this.opts.logger,
        ...(this.opts.config !== undefined ? { config: this.opts.config } : {}),
      });
      await d.start();
      if (this.stopped || this.opts.raftStatus().role !== 'leader') d.stop(notLeaderError(this.opts.raftStatus()));
      else this.dispatcher = d;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'dispatcher did not start; will retry');
    } finally {
      this.starting = false;
    }
  }
}
