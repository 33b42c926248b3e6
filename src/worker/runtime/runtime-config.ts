import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

export const processRuntimeConfigSchema = z.object({
  /**
   * Where IMAGE is looked up when it is not an absolute path, and the PATH a task starts with
   * unless its env sets one. Debian root's PATH: programs in sbin are fair game for tasks.
   */
  searchPath: z.string().min(1).default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
  /**
   * How often (ms) /proc is read to see whether a task ended. 100 ms: a task's exit is seen
   * within a tenth of a second, for the cost of reading one small file per task per tick.
   */
  pollIntervalMs: z.number().int().min(10).max(10_000).default(100),
  /**
   * How long (ms) start() waits for the task's own process to appear behind nsenter and
   * unshare; a hang guard only: it appears within milliseconds.
   */
  startTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});
export type ProcessRuntimeConfig = z.output<typeof processRuntimeConfigSchema>;

export function parseProcessRuntimeConfig(input: unknown): ProcessRuntimeConfig {
  return parseConfig('process runtime', processRuntimeConfigSchema, input);
}

export const dockerRuntimeConfigSchema = z.object({
  /** The Docker Engine API socket; the engine's default. */
  socketPath: z.string().min(1).default('/var/run/docker.sock'),
  /**
   * Deadline (ms) of one short API call (inspect, create, start, kill, remove). 30 s: the
   * engine may be slow under load, and a call that takes longer means it is stuck.
   */
  callTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** How often (ms) stop() checks whether the container ended after a signal. */
  pollIntervalMs: z.number().int().min(10).max(10_000).default(100),
});
export type DockerRuntimeConfig = z.output<typeof dockerRuntimeConfigSchema>;

export function parseDockerRuntimeConfig(input: unknown): DockerRuntimeConfig {
  return parseConfig('docker runtime', dockerRuntimeConfigSchema, input);
}
