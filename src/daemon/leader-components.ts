import { errorMessage } from '../errors/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { TaskAllocator } from '../manager/allocator/task-allocator.js';
import { Orchestrator } from '../manager/orchestrator/index.js';
import { Scheduler } from '../manager/scheduler/index.js';
import { NetworkKeyRotation } from './network-key-rotation.js';
import type { MemoryStore } from '../manager/store/index.js';

/**
 * ms between two looks at this manager's Raft role. The driver has no leadership event; 100 ms
 * (one Raft tick) keeps a new leader's orchestration within a tick of its election, for the
 * price of reading an in-memory status.
 */
const ROLE_POLL_MS = 100;

interface LeaderComponent {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The parts of a manager that run only while it leads (swarmkit's "leader-only" set): the
 * orchestrators, the task allocation pass and the scheduler. Each keeps no state but the
 * store, so they are made anew at every term and a leadership change in the middle of their
 * work is safe.
 */
export class LeaderComponents {
  private running: LeaderComponent[] | undefined;
  private transition: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly store: MemoryStore,
    private readonly isLeader: () => boolean,
    logger: Logger,
  ) {
    this.log = componentLogger(logger, 'leader-components');
    this.timer = setInterval(() => this.check(), ROLE_POLL_MS);
    this.timer.unref();
  }

  private check(): void {
    const lead = this.isLeader();
    if (lead && this.running === undefined) this.transition = this.transition.then(() => this.startAll());
    else if (!lead && this.running !== undefined) this.transition = this.transition.then(() => this.stopAll());
  }

  private startAll(): Promise<void> {
    if (this.running !== undefined || !this.isLeader()) return Promise.resolve();
    const opts = { store: this.store, logger: this.log };
    this.running = [new Orchestrator(opts), new TaskAllocator(opts), new Scheduler(opts), new NetworkKeyRotation(opts)];
    for (const c of this.running) c.start();
    this.log.info('leading: orchestrators, allocator, scheduler and gossip key rotation started');
    return Promise.resolve();
  }

  private async stopAll(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (running === undefined) return;
    const results = await Promise.allSettled(running.map((c) => c.stop()));
    for (const r of results) if (r.status === 'rejected') this.log.warn({ err: errorMessage(r.reason) }, 'a leader component failed to stop cleanly');
    this.log.info('not leading: orchestrators, allocator, scheduler and gossip key rotation stopped');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.transition;
    await this.stopAll();
  }
}
