import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

/** The store's limits. */
export const storeConfigSchema = z.object({
  // bytes of one Raft entry written by the store: 1.5 MiB, swarmkit's MaxTransactionBytes.
  // Every member holds every entry in memory until it is applied and ships it to each
  // follower; 1.5 MiB keeps one entry a few ms of network time and far under the Raft
  // transport's 64 MiB message cap, while 200 services with large specs still fit.
  // update() refuses a larger transaction (STORE_TX_TOO_LARGE); batch() splits before it.
  maxEntryBytes: z.number().int().min(1024).default(1_572_864),
  // changes per entry when batch() splits a large change set: 200, swarmkit's
  // MaxChangesPerTransaction. Bounds the time one apply holds the event loop (and the
  // burst of events a watcher gets at once) to about a millisecond.
  maxActionsPerEntry: z.number().int().min(1).default(200),
  // events queued for one watcher before it is cut off with STORE_WATCH_TOO_SLOW: 10,000 is
  // 50 full entries, seconds of the busiest orchestration, so only a reader that has stopped
  // (or is far slower than the managers) hits it, and memory per watcher stays bounded.
  watchQueueLimit: z.number().int().min(1).default(10_000),
  // ms a write (or linearizable read) may take before it fails with RAFT_TIMEOUT; undefined
  // = the Raft node's proposalTimeoutMs (5 s).
  writeTimeoutMs: z.number().int().min(1).optional(),
});

export type StoreConfig = z.output<typeof storeConfigSchema>;
export type StoreConfigInput = z.input<typeof storeConfigSchema>;

export function parseStoreConfig(input: unknown): StoreConfig {
  return parseConfig('store', storeConfigSchema, input);
}
