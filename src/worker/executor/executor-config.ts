import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

export const executorConfigSchema = z.object({
  /**
   * Grace (ms) between the stop signal and SIGKILL when the task's spec gives none (0):
   * Docker's and swarmkit's 10 s, long enough for a server to finish its requests.
   */
  defaultStopGracePeriodMs: z.number().int().min(0).max(3_600_000).default(10_000),
  /** Health-check defaults when the spec leaves them 0: Docker's (30 s, 30 s, 3 retries, no start period). */
  healthIntervalMs: z.number().int().min(1).max(86_400_000).default(30_000),
  healthTimeoutMs: z.number().int().min(1).max(86_400_000).default(30_000),
  healthRetries: z.number().int().min(1).max(1000).default(3),
  healthStartPeriodMs: z.number().int().min(0).max(86_400_000).default(0),
});
export type ExecutorConfig = z.output<typeof executorConfigSchema>;

export function parseExecutorConfig(input: unknown): ExecutorConfig {
  return parseConfig('executor', executorConfigSchema, input);
}
