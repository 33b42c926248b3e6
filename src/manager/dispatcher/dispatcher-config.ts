import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

/** The dispatcher's settings; defaults are swarmkit's unless said otherwise. */
export const dispatcherConfigSchema = z.object({
  /**
   * ms heartbeat period used when the Cluster object has none (0): Docker's 5 s. The real
   * period is ClusterSpec.dispatcherHeartbeatPeriodMs (`init --dispatcher-heartbeat`).
   */
  defaultHeartbeatPeriodMs: z.number().int().min(1).default(5_000),
  /** Periods without a heartbeat after which a node is DOWN (Docker: 3, about 15 s). */
  missedHeartbeats: z.number().int().min(1).default(3),
  /**
   * Extra factor on that deadline for the nodes a NEW leader finds (swarmkit: 2): their
   * agents first have to notice the old leader is gone and find this one.
   */
  leaderGraceMultiplier: z.number().min(1).default(2),
  /**
   * Fraction of the period a heartbeat reply may be shortened by at random, so nodes that
   * started together drift apart instead of heartbeating in the same instant. Shortened,
   * never lengthened, so the deadline of missedHeartbeats periods always holds.
   */
  heartbeatJitter: z.number().min(0).max(0.5).default(0.1),
  /**
   * ms assignment changes wait to be sent together (swarmkit: 100 ms): a service update
   * touches many tasks of a node within milliseconds, one message carries them all.
   */
  assignmentBatchMs: z.number().int().min(0).default(100),
  /** Changes per assignments message; keeps one far below gRPC's 4 MiB. */
  maxAssignmentsPerMessage: z.number().int().min(1).default(500),
  /** ms task status updates wait to be written to the store in one Raft entry. */
  statusBatchMs: z.number().int().min(0).default(50),
  /**
   * ms between checks of the heartbeat deadlines: a node is marked DOWN at most this late.
   * 100 ms against periods of seconds.
   */
  expiryCheckMs: z.number().int().min(1).default(100),
  /** ms between checks of the manager list sent in session messages (Raft membership). */
  managersCheckMs: z.number().int().min(1).default(1_000),
});

export type DispatcherConfig = z.output<typeof dispatcherConfigSchema>;
export type DispatcherConfigInput = z.input<typeof dispatcherConfigSchema>;

export function parseDispatcherConfig(input?: DispatcherConfigInput): DispatcherConfig {
  return parseConfig('dispatcher', dispatcherConfigSchema, input);
}
