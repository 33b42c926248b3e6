/**
 * Transport knobs. The defaults suit managers on one LAN; tests may shrink them.
 */
export interface TransportTuning {
  /** ms before the first reconnect after a stream breaks: well under the 100 ms tick, so a
   * restarted peer is back before the next heartbeat or two. */
  readonly initialBackoffMs: number;
  /** ms cap of the doubling backoff: one election timeout, so a peer that comes back is heard
   * from within about one election. */
  readonly maxBackoffMs: number;
  /** bytes per snapshot chunk: 1 MiB keeps each gRPC message far below its limit while
   * amortizing per-message cost. */
  readonly snapshotChunkBytes: number;
  /** ms a whole snapshot transfer may take before it is reported failed (the leader retries). */
  readonly snapshotTimeoutMs: number;
  /** bytes of entry data per stream write; larger Ready batches are split. */
  readonly maxBatchBytes: number;
  /** bytes: gRPC message size limit both ways; above maxBatchBytes plus one max-size App. */
  readonly maxMessageBytes: number;
  /** batches buffered towards one peer before sends to it are dropped (it is not draining). */
  readonly maxQueuedBatches: number;
}

export const defaultTransportTuning: TransportTuning = {
  initialBackoffMs: 50,
  maxBackoffMs: 1_000,
  snapshotChunkBytes: 1 << 20,
  snapshotTimeoutMs: 60_000,
  maxBatchBytes: 16 << 20,
  maxMessageBytes: 64 << 20,
  maxQueuedBatches: 4_096,
};
