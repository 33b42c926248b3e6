import { z } from 'zod';
import { parseConfig } from '../../../config/parse-config.js';

/**
 * The driver's settings. Tick counts are in units of tickMs; with the defaults a leader
 * heartbeats every 100 ms and followers campaign 1–2 s after their leader goes silent.
 */
export const raftNodeConfigSchema = z
  .object({
    // ms per logical tick. 100 ms is etcd's heartbeat interval: about 10x a LAN round trip
    // plus an fsync, so heartbeats are cheap yet a dead leader is noticed within a second.
    // (swarmkit ticks once a second, which is why its failover takes 10-20 s.)
    tickMs: z.number().int().min(1).max(10_000).default(100),
    // ticks between a leader's heartbeats: 1, i.e. every 100 ms, ten per election timeout.
    heartbeatTick: z.number().int().min(1).default(1),
    // ticks a follower waits for its leader before campaigning, randomized to [10, 20):
    // 10 x 100 ms = a 1 s election timeout, etcd's default.
    electionTick: z.number().int().min(2).default(10),
    // entries applied between two snapshots: 10,000, swarmkit's SnapshotInterval. Bounds the
    // log replayed at restart and the disk the WAL takes.
    snapshotInterval: z.number().int().min(1).default(10_000),
    // entries kept in the log behind a snapshot: 500, swarmkit's LogEntriesForSlowFollowers,
    // so a follower a little behind gets entries rather than a whole snapshot.
    snapshotKeepEntries: z.number().int().min(0).default(500),
    // ms a proposal may wait to be committed and applied before RAFT_TIMEOUT: 5 s is several
    // failovers (1-2 s each) plus fsyncs, so a healthy cluster never hits it, yet a client
    // learns about a lost quorum long before its own deadlines expire.
    proposalTimeoutMs: z.number().int().min(1).default(5_000),
    // entries a learner may lag behind the leader's commit index and still be promoted to
    // voter: 100 is a few milliseconds of replication at full load, so a promoted member
    // cannot stall commits while it catches up on the rest.
    promoteLagEntries: z.number().int().min(0).default(100),
    // fdatasync each Ready's writes before sending (on). Off only for tests and benchmarks
    // that want to measure everything but the disk: a crash can then lose acknowledged writes.
    fsync: z.boolean().default(true),
  })
  .refine((c) => c.heartbeatTick < c.electionTick, {
    message: 'heartbeatTick must be smaller than electionTick',
    path: ['heartbeatTick'],
  });

export type RaftNodeConfig = z.output<typeof raftNodeConfigSchema>;
export type RaftNodeConfigInput = z.input<typeof raftNodeConfigSchema>;

/** Fills defaults; throws CONFIG_INVALID naming every bad field. */
export function parseRaftNodeConfig(input: unknown): RaftNodeConfig {
  return parseConfig('raft node', raftNodeConfigSchema, input);
}
