import { TsswarmError } from '../../errors/index.js';
import type { Node } from '../store/index.js';
import type { RaftNodeStatus } from '../raft/node/index.js';

/**
 * Finds a node as `docker node inspect` does: exact ID, then exact hostname (or spec name),
 * then a unique ID prefix. "self" is resolved by the caller (the local daemon knows who it is).
 * Throws STORE_NOT_FOUND or NODE_AMBIGUOUS.
 */
export function resolveNode(nodes: readonly Node[], ref: string): Node {
  const byId = nodes.find((n) => n.id === ref);
  if (byId !== undefined) return byId;
  const lower = ref.toLowerCase();
  const byName = nodes.filter((n) => n.description?.hostname.toLowerCase() === lower || n.spec.annotations.name.toLowerCase() === lower);
  if (byName.length === 1) return byName[0]!;
  const matches = byName.length > 1 ? byName : nodes.filter((n) => n.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0 || ref.length === 0) throw new TsswarmError('STORE_NOT_FOUND', { kind: 'node', id: ref });
  throw new TsswarmError('NODE_AMBIGUOUS', { ref, count: matches.length, matches: matches.map((n) => n.id).join(', ') });
}

/**
 * The node as the CLI shows it: its stored manager status with leadership and reachability
 * taken from Raft now (the stored values only say what was true when they were written).
 * A member Raft lists is reachable unless the last probe of it went unanswered (`unreachable`,
 * the leader's view); one Raft no longer lists is not.
 */
export function withLiveManagerStatus(node: Node, raft: RaftNodeStatus, unreachable: ReadonlySet<string> = new Set()): Node {
  if (node.managerStatus === undefined || node.managerStatus === null) return node;
  const member = raft.members.find((m) => m.id === node.managerStatus!.raftId && !unreachable.has(m.id));
  return {
    ...node,
    managerStatus: {
      ...node.managerStatus,
      addr: member?.addr ?? node.managerStatus.addr,
      leader: raft.leaderId !== '' && raft.leaderId === node.managerStatus.raftId,
      reachability: member === undefined ? 'UNREACHABLE' : 'REACHABLE',
    },
  };
}
