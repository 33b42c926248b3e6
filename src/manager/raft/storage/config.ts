import { z } from 'zod';
import { parseConfig } from '../../../config/parse-config.js';

const MiB = 1024 * 1024;

export const raftStorageConfigSchema = z
  .object({
    /**
     * Bytes after which the WAL moves on to a new segment file (a segment may exceed it by
     * one group-commit batch). 64 MiB, as etcd: large enough that a cut (one extra fdatasync
     * and directory fsync) is rare, small enough that releaseTo frees disk in useful steps
     * after each snapshot and that recovery reads one segment into memory in well under a
     * second. Minimum 4 KiB (one page) so tests can force rollovers.
     */
    segmentBytes: z
      .number()
      .int()
      .min(4 * 1024)
      .max(1024 * MiB)
      .default(64 * MiB),
    /**
     * Bytes of queued save() records coalesced into one write and one fdatasync (group commit).
     * 4 MiB: about 15,000 entries of 256 bytes, far more than a Raft leader has in flight,
     * so under load every waiting save shares one fdatasync; the bound keeps one batch's
     * buffer and the first waiter's latency finite when saves carry large entries.
     */
    maxBatchBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * MiB)
      .default(4 * MiB),
  })
  .strict();

export type RaftStorageConfig = z.output<typeof raftStorageConfigSchema>;

export function parseRaftStorageConfig(input: unknown): RaftStorageConfig {
  return parseConfig('raft storage', raftStorageConfigSchema, input);
}
