import { TsswarmError } from '../../errors/index.js';
import type { LogLine } from '../runtime/runtime.js';

/**
 * Where the agent reads a task's lines: the node's executor (NodeTaskExecutor.readLogs) in
 * the daemon, a fake in tests. readLogs throws (or its iterable throws) TASK_NOT_FOUND for a
 * task the node does not know; with follow it keeps yielding until the task ends or the
 * signal aborts.
 */
export interface LogSource {
  readLogs(taskId: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogLine>;
}

/** For an agent without an executor: every task's logs end with AGENT_NO_LOG_SOURCE. */
export function missingLogSource(nodeId: string): LogSource {
  return {
    // eslint-disable-next-line require-yield -- it has nothing to yield, only the error
    async *readLogs(taskId: string): AsyncIterable<LogLine> {
      throw new TsswarmError('AGENT_NO_LOG_SOURCE', { nodeId, taskId });
    },
  };
}

export type { LogLine };
