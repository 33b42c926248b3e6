import type { StateMachine } from '../raft/node/index.js';
import type { Proposer } from './proposer.js';

/**
 * A one-member "log" with no Raft behind it: each proposal gets the next index and is
 * applied at once. For unit tests and tools that want a store without a cluster; the store
 * behaves exactly as under Raft, minus replication.
 */
export class LocalProposer implements Proposer {
  private index: number;

  constructor(
    private readonly sm: StateMachine,
    startIndex = 0,
  ) {
    this.index = startIndex;
  }

  async propose(data: Uint8Array): Promise<{ index: number }> {
    this.index++;
    this.sm.apply(this.index, data);
    return { index: this.index };
  }

  async readIndex(): Promise<number> {
    return this.index;
  }
}
