import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

/** The agent's settings; every default is swarmkit's unless said otherwise. */
export const agentConfigSchema = z.object({
  /**
   * ms each unary call (Heartbeat, UpdateTaskStatus) may take, and how long the first
   * message of a new Session may take. swarmkit's 5 s: long enough for a loaded manager,
   * short enough that a dead one is left within one heartbeat period.
   */
  rpcTimeoutMs: z.number().int().min(10).default(5_000),
  /** ms before the first reconnect attempt; doubled per failure (swarmkit: 100 ms). */
  backoffInitialMs: z.number().int().min(1).default(100),
  /** ms cap of the reconnect delay (swarmkit: 8 s), so a node returns soon after an outage. */
  backoffMaxMs: z.number().int().min(1).default(8_000),
  /**
   * Fraction of each delay drawn at random (full jitter over that part), so the nodes of a
   * cluster whose manager died do not all reconnect in the same instant.
   */
  backoffJitter: z.number().min(0).max(1).default(0.5),
  /**
   * ms task status changes wait to be sent together: executors report several states within
   * milliseconds (ACCEPTED, PREPARING, ..., RUNNING), and one call with all of them costs one
   * Raft write instead of several.
   */
  statusBatchMs: z.number().int().min(0).default(50),
  /** Status updates per UpdateTaskStatus call; keeps one call far below gRPC's 4 MiB. */
  maxStatusesPerCall: z.number().int().min(1).default(500),
  /** ms between retries of a refused or failed status report while the session stays up. */
  statusRetryMs: z.number().int().min(1).default(1_000),
  /**
   * ms a task's log lines wait to be published together: a busy task writes many lines per
   * millisecond, and `service logs -f` still feels live at a tenth of a second.
   */
  logBatchMs: z.number().int().min(0).default(100),
  /** Log lines per PublishLogs message. */
  maxLogLinesPerMessage: z.number().int().min(1).default(1_000),
  /** Bytes of log lines per PublishLogs message: 1 MiB, far below gRPC's 4 MiB limit. */
  maxLogBytesPerMessage: z.number().int().min(1).default(1024 * 1024),
  /** ms heartbeat period used until the dispatcher says otherwise (Docker's 5 s). */
  defaultHeartbeatPeriodMs: z.number().int().min(1).default(5_000),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export function parseAgentConfig(input?: AgentConfigInput): AgentConfig {
  return parseConfig('agent', agentConfigSchema, input);
}
