import { TsswarmError } from '../../../src/errors/index.js';
import type { LogLine, LogSource } from '../../../src/worker/agent/index.js';

/**
 * A node's task logs in memory, read as the executor's readLogs reads them: the lines so far,
 * then (follow) each new line as add() appends it, until the signal aborts. Records what its
 * readers saw, so tests can check that a withdrawn subscription's readers were aborted.
 */
export class FakeLogSource implements LogSource {
  private readonly logs = new Map<string, LogLine[]>();
  private readonly wakeups = new Set<() => void>();
  /** Readers running now. */
  active = 0;
  /** Readers that ended because their signal aborted. */
  aborted = 0;
  /** Every readLogs call, in order. */
  readonly calls: Array<{ taskId: string; follow: boolean }> = [];

  /** Makes the task known (with no lines yet). */
  known(taskId: string): this {
    if (!this.logs.has(taskId)) this.logs.set(taskId, []);
    return this;
  }

  add(taskId: string, line: string, stream: LogLine['stream'] = 'stdout', timestampMs = 1_700_000_000_000): void {
    this.known(taskId);
    this.logs.get(taskId)!.push({ stream, timestampMs, line });
    for (const wake of [...this.wakeups]) wake();
  }

  async *readLogs(taskId: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogLine> {
    this.calls.push({ taskId, follow: opts.follow });
    const lines = this.logs.get(taskId);
    if (lines === undefined) throw new TsswarmError('TASK_NOT_FOUND', { taskId });
    this.active++;
    try {
      let next = 0;
      for (;;) {
        while (next < lines.length) yield lines[next++]!;
        if (!opts.follow) return;
        if (opts.signal?.aborted === true) {
          this.aborted++;
          return;
        }
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            this.wakeups.delete(wake);
            opts.signal?.removeEventListener('abort', wake);
            resolve();
          };
          this.wakeups.add(wake);
          opts.signal?.addEventListener('abort', wake, { once: true });
        });
      }
    } finally {
      this.active--;
    }
  }
}
