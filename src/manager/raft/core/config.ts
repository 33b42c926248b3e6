import { z } from 'zod';
import { parseConfig } from '../../../config/parse-config.js';
import { TsswarmError } from '../../../errors/index.js';
import type { RaftCoreConfig } from '../types.js';

/**
 * The numeric and boolean tunables of RaftCoreConfig, with defaults. The driver ticks every
 * 100 ms, so tick counts below translate to time at that rate.
 */
export const raftCoreTunablesSchema = z
  .object({
    // 10 ticks (1 s at 100 ms/tick). Randomized to [10, 20) ticks, so a follower campaigns 1–2 s
    // after its leader goes silent: etcd's default, about 10x a LAN round trip plus fsync.
    electionTick: z.number().int().min(2).default(10),
    // 1 tick (100 ms): a leader heartbeats ten times per election timeout, so a few lost
    // heartbeats never trigger an election.
    heartbeatTick: z.number().int().min(1).default(1),
    // index: 0 for a fresh node; the driver passes the state machine's applied index on restart.
    applied: z.number().int().min(0).default(0),
    // 1 MiB of entry data per App message: large enough to batch thousands of small writes per
    // round trip, small enough that one message does not stall a gRPC stream (etcd uses 1 MiB).
    maxSizePerMsg: z.number().int().min(1).default(1024 * 1024),
    // 256 App messages in flight per follower: at 1 MiB each this bounds a follower's backlog to
    // 256 MiB, and at >10k commits/s a window of 256 batches never starves the pipeline.
    maxInflightMsgs: z.number().int().min(1).default(256),
    // 64 MiB of proposed-but-uncommitted data on the leader: bounds memory while a quorum is
    // unreachable; proposals past it are dropped (retryable) instead of queueing without limit.
    maxUncommittedEntriesSize: z.number().int().min(1).default(64 * 1024 * 1024),
    // 16 MiB of committed entries per Ready: bounds the apply step's latency and memory while a
    // restarted node catches up on a long log, yet keeps batches large in steady state.
    maxCommittedSizePerReady: z.number().int().min(1).default(16 * 1024 * 1024),
    // on: a node that cannot win an election does not bump terms and disrupt a healthy leader
    // (e.g. after it rejoins from a partition); costs one extra round trip per election.
    preVote: z.boolean().default(true),
    // on: a leader that has not heard from a quorum for an election timeout steps down, and
    // followers honour the leader lease; stops a partitioned leader from lingering.
    checkQuorum: z.boolean().default(true),
  })
  .refine((c) => c.heartbeatTick < c.electionTick, {
    message: 'heartbeatTick must be smaller than electionTick',
    path: ['heartbeatTick'],
  });

export type RaftCoreTunables = z.output<typeof raftCoreTunablesSchema>;

/** The defaults, for drivers and tests that build a RaftCoreConfig by hand. */
export const defaultRaftCoreTunables: RaftCoreTunables = raftCoreTunablesSchema.parse({});

type RaftCoreWiring = Pick<RaftCoreConfig, 'id' | 'storage' | 'rng' | 'logger'>;

/**
 * Builds a full RaftCoreConfig from the wiring (id, storage, rng, logger) and any subset of
 * the tunables, filling defaults. Throws CONFIG_INVALID naming every bad field.
 */
export function resolveRaftCoreConfig(
  wiring: RaftCoreWiring,
  tunables: Partial<RaftCoreTunables> = {},
): RaftCoreConfig {
  const parsed = parseConfig('raft', raftCoreTunablesSchema, tunables);
  return { ...parsed, ...wiring };
}

/** Validates a complete config (createRaftCore calls this). Throws CONFIG_INVALID. */
export function validateRaftCoreConfig(config: RaftCoreConfig): RaftCoreConfig {
  const { id, storage, rng, logger, ...tunables } = config;
  const parsed = parseConfig('raft', raftCoreTunablesSchema, tunables);
  if (typeof id !== 'string' || id.length === 0) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'raft', problems: 'id: must be a non-empty node ID' });
  }
  return { ...parsed, id, storage, rng, logger };
}
