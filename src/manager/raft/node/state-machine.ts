/**
 * What Raft replicates into. The driver calls these from its Ready loop, one at a time, in
 * log order; never concurrently.
 */
export interface StateMachine {
  /** Apply one committed Normal entry's data. Must be deterministic: every member applies the
   * same sequence and must end in the same state. A throw is fatal for the node. */
  apply(index: number, data: Uint8Array): void;
  /** The whole state as of the last applied entry, for a Raft snapshot. */
  snapshot(): Uint8Array;
  /** Replace the whole state with one produced by snapshot() (possibly on another member). */
  restore(data: Uint8Array): void;
}
