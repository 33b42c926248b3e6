import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import type { Logger } from '../../log/logger.js';
import { taskStateValues, type Task } from '../../objects/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { ReconcileLoop, type PassResult } from '../orchestrator/reconcile-loop.js';
import type { MemoryStore, WriteTx } from '../store/index.js';

// The leader's task allocation pass (swarmkit's allocator "voting" a task from NEW to PENDING).
// Unlike the pure libraries beside it, this file is a runner: it reads and writes the store.

/** A task the allocation pass moves on: just created and still meant to run. */
export function needsAllocation(t: Task): boolean {
  return t.status.state === 'NEW' && taskStateValues[t.desiredState] <= taskStateValues.RUNNING;
}

/**
 * What a NEW task needs before the scheduler may place it. Today that is nothing: tasks have
 * no network attachments yet, so every NEW task is ready at once. When overlay networks arrive
 * (the network issue), the attachments (an address on each of the task's networks, from the
 * IPAM in ./ipam) are allocated here, and a task whose allocation fails stays NEW with the
 * reason in its status message. The transition itself is real: the scheduler only looks at
 * PENDING tasks.
 */
export function allocateTask(t: Task, nowMs: number): Task {
  return { ...t, status: { ...t.status, state: 'PENDING', message: 'pending task scheduling', timestampMs: nowMs } };
}

/** One allocation pass: every NEW task meant to run becomes PENDING. */
export function taskAllocationPass(tx: WriteTx, nowMs: number): PassResult {
  for (const t of tx.list('task')) if (needsAllocation(t)) tx.update('task', allocateTask(t, nowMs));
  return {};
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

/** Runs the allocation pass on the leader whenever tasks change (start/stop with leadership). */
export class TaskAllocator {
  private readonly loop: ReconcileLoop;

  constructor(options: TaskAllocatorOptions) {
    const cfg = parseConfig('task-allocator', taskAllocatorConfigSchema, options.config);
    this.loop = new ReconcileLoop({
      name: 'task-allocator',
      store: options.store,
      clock: options.clock ?? systemClock,
      wallClock: options.wallClock ?? Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      kinds: ['task'],
      retryDelayMs: cfg.retryDelayMs,
      pass: taskAllocationPass,
    });
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
