import type { ConfChange, NodeId } from '../../../../src/manager/raft/types.js';
import type { SimNode } from './sim-node.js';

/**
 * When the operator may shut down a removed member for good: only once every member of the
 * new configuration durably knows that the removal committed.
 *
 * Configuration changes take effect when applied, so a member that has the removal in its log
 * but does not know it committed still counts the removed member's vote. Shutting the removed
 * member down earlier can leave the rest without a quorum for good (etcd-io/etcd#12359; this
 * simulator ran into it with three removals in a row). Until then the removed member keeps
 * running: it no longer campaigns once it has applied its removal, but it still votes.
 */
export class RemovalPolicy {
  /** Members whose removal some node has applied (so it is committed). */
  readonly removed = new Set<NodeId>();
  private readonly pending = new Map<NodeId, { index: number; remaining: NodeId[] }>();

  /** A node applied a ConfChange; `node.confState` is the configuration after it. */
  onApplied(node: SimNode, cc: ConfChange, index: number): void {
    if (cc.type !== 'remove' || this.removed.has(cc.nodeId)) return;
    this.removed.add(cc.nodeId);
    const { voters, learners } = node.confState;
    this.pending.set(cc.nodeId, { index, remaining: [...voters, ...learners] });
  }

  /** The removed members that may be shut down now, with a line for the trace. */
  *ready(nodes: ReadonlyMap<NodeId, SimNode>): Generator<{ id: NodeId; why: string }> {
    for (const [id, removal] of this.pending) {
      const known = removal.remaining.every((member) => {
        const node = nodes.get(member);
        return node === undefined || node.decommissioned || node.disk.durableCommit() >= removal.index;
      });
      if (!known) continue;
      this.pending.delete(id);
      yield { id, why: `${removal.remaining.join(',')} know its removal at ${removal.index} committed` };
    }
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }
}
