/**
 * What the store writes through: the Raft driver (RaftNode satisfies this interface) or, in
 * tests and single-process tools, LocalProposer. propose must resolve only once the entry is
 * committed AND applied to this store; readIndex once this store has applied everything
 * committed when it was called.
 */
export interface Proposer {
  propose(data: Uint8Array, options?: { timeoutMs?: number; forward?: boolean }): Promise<{ index: number }>;
  readIndex(options?: { timeoutMs?: number }): Promise<number>;
}
