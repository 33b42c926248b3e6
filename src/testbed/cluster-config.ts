import { z } from 'zod';
import { parseConfig } from '../config/parse-config.js';

/** Settings of `cluster up|down` (daemons on a test bed). Every deadline is a hang guard only. */
export const clusterConfigSchema = z.object({
  /**
   * How long (ms) a daemon may take until its socket answers `tsswarm info`. 60 s: it answers
   * within a second or two, but a 2-core machine under a parallel test suite may be slow.
   */
  daemonStartTimeoutMs: z.number().int().min(1_000).max(600_000).default(60_000),
  /**
   * Deadline (ms) of one CLI call (init, join-token, join). 120 s: a join issues a certificate
   * and, for a manager, adds a Raft member; seconds normally, far less than this.
   */
  cliTimeoutMs: z.number().int().min(1_000).max(600_000).default(120_000),
  /** How long (ms) `down` waits after SIGTERM before SIGKILL: `docker stop`'s 10 s default. */
  stopGraceMs: z.number().int().min(0).max(600_000).default(10_000),
  /** How often (ms) sockets and processes are polled: cheap checks, a tenth of a second. */
  pollIntervalMs: z.number().int().min(10).max(10_000).default(100),
  /** Lines of a daemon's log quoted in an error: enough for the failure and what led to it. */
  logTailLines: z.number().int().min(0).max(1_000).default(20),
});
export type ClusterConfig = z.output<typeof clusterConfigSchema>;

export function parseClusterConfig(input: unknown): ClusterConfig {
  return parseConfig('cluster', clusterConfigSchema, input);
}
