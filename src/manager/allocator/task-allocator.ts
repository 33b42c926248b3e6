import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { ReconcileLoop, type PassResult } from '../orchestrator/reconcile-loop.js';
import type { MemoryStore, WriteTx } from '../store/index.js';
import { planAllocation, type AllocationPlan } from './allocation-plan.js';

export { needsAllocation } from './allocation-plan.js';

// The leader's allocation pass (swarmkit's allocator "voting" a task from NEW to PENDING).
// The decisions are pure (allocation-plan.ts, address-book.ts); this file is the runner: it
// reads the store, writes the plan back, and keeps the cursor hints between passes.

/**
 * One allocation pass inside a store transaction: services get their VIPs, every NEW task
 * meant to run gets its network attachments and becomes PENDING (or stays NEW with the reason
 * in its status). `cursors` carries the rotating search's position from pass to pass (a
 * hint only: the addresses in use always come from the store). Returns the plan it wrote.
 */
export function taskAllocationPass(tx: WriteTx, nowMs: number, cursors: Map<string, string> = new Map()): AllocationPlan {
  const plan = planAllocation({ networks: tx.list('network'), services: tx.list('service'), tasks: tx.list('task'), nowMs, cursors });
  for (const s of plan.services) tx.update('service', s);
  for (const t of plan.tasks) tx.update('task', t);
  cursors.clear();
  for (const [id, next] of plan.cursors) cursors.set(id, next);
  return plan;
}

export const taskAllocatorConfigSchema = z.object({
  // ms before a failed pass (lost quorum, say) is tried again: 1 s, as the scheduler.
  retryDelayMs: z.number().int().min(1).default(1_000),
});

export interface TaskAllocatorOptions {
  readonly store: MemoryStore;
  readonly clock?: Clock;
  readonly wallClock?: () => number;
  readonly logger?: Logger;
  readonly config?: z.input<typeof taskAllocatorConfigSchema>;
}

/**
 * Runs the allocation pass on the leader whenever tasks, services or networks change
 * (start/stop with leadership). It is the only writer of task addresses and service VIPs, so
 * two allocations never race; a new leader's first pass rebuilds everything from the store.
 */
export class TaskAllocator {
  private readonly loop: ReconcileLoop;
  private readonly cursors = new Map<string, string>();
  private readonly log: Logger;
  private lastConflicts = '[]';

  constructor(options: TaskAllocatorOptions) {
    const cfg = parseConfig('task-allocator', taskAllocatorConfigSchema, options.config);
    this.log = options.logger === undefined ? silentLogger() : componentLogger(options.logger, 'task-allocator');
    this.loop = new ReconcileLoop({
      name: 'task-allocator',
      store: options.store,
      clock: options.clock ?? systemClock,
      wallClock: options.wallClock ?? Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      kinds: ['task', 'service', 'network'],
      retryDelayMs: cfg.retryDelayMs,
      pass: (tx, nowMs) => this.pass(tx, nowMs),
    });
  }

  private pass(tx: WriteTx, nowMs: number): PassResult {
    const plan = taskAllocationPass(tx, nowMs, this.cursors);
    // Logged when they change, not at every pass.
    const conflicts = JSON.stringify(plan.conflicts);
    if (conflicts !== this.lastConflicts && plan.conflicts.length > 0) {
      this.log.warn({ conflicts: plan.conflicts }, 'the store shows addresses held twice or outside their network; each stays with its first holder');
    }
    this.lastConflicts = conflicts;
    return {};
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }
}
