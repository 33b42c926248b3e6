import { TsswarmError } from '../../errors/index.js';
import type { Node, NodeAvailability } from '../store/index.js';
import type { UpdateNodeRequest } from './messages.js';

/**
 * The pure decisions of `node update`, `node rm` and `node demote`: what a request asks, and
 * whether it may be done. Each throws before anything is written.
 */

const AVAILABILITIES: Record<string, NodeAvailability> = { active: 'ACTIVE', pause: 'PAUSE', drain: 'DRAIN' };

/** Docker's label keys: non-empty, no whitespace, no "=" (it separates the value). */
function checkLabelKey(flag: string, key: string, raw: string): void {
  if (key === '' || /[\s=]/.test(key)) {
    throw new TsswarmError('SWARM_INVALID_OPTION', { option: flag, value: JSON.stringify(raw), reason: 'a label key must be non-empty, without spaces or "="' });
  }
}

/** The node's spec after `node update`; bad input throws SWARM_INVALID_OPTION and changes nothing. */
export function updatedNodeSpec(node: Node, req: UpdateNodeRequest): Node['spec'] {
  let availability = node.spec.availability;
  if (req.availability !== '') {
    const a = AVAILABILITIES[req.availability.toLowerCase()];
    if (a === undefined) {
      throw new TsswarmError('SWARM_INVALID_OPTION', { option: '--availability', value: JSON.stringify(req.availability), reason: 'it must be active, pause or drain' });
    }
    availability = a;
  }
  const labels = { ...node.spec.annotations.labels };
  for (const raw of req.labelAdd) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    checkLabelKey('--label-add', key, raw);
    labels[key] = eq < 0 ? '' : raw.slice(eq + 1);
  }
  for (const key of req.labelRm) {
    checkLabelKey('--label-rm', key, key);
    // Docker refuses to remove a label the node does not have (a typo would go unnoticed).
    if (!Object.hasOwn(labels, key)) {
      throw new TsswarmError('SWARM_INVALID_OPTION', { option: '--label-rm', value: JSON.stringify(key), reason: `node ${node.id} has no label with that key` });
    }
    delete labels[key];
  }
  return { ...node.spec, availability, annotations: { ...node.spec.annotations, labels } };
}

/**
 * Whether `node rm` may remove the node: never a manager (it must leave Raft first); a node
 * that is Ready only with --force (swarmkit's rule: it would keep running what nobody tracks).
 */
export function checkRemovable(node: Node, force: boolean): void {
  if (node.role === 'MANAGER' || node.spec.desiredRole === 'MANAGER') throw new TsswarmError('NODE_IS_MANAGER', { nodeId: node.id });
  const state = node.status?.state ?? 'UNKNOWN';
  if (state === 'READY' && !force) throw new TsswarmError('NODE_NOT_DOWN', { nodeId: node.id, state: state.toLowerCase() });
}

export interface QuorumView {
  /** Raft voters now (IDs). */
  readonly voters: readonly string[];
  /** Which of them answer now (the leader itself always does). */
  readonly reachable: ReadonlySet<string>;
}

/**
 * Whether removing `memberId` from Raft keeps a quorum (swarmkit's CanRemoveMember): the
 * voters left must include a majority of themselves that is reachable now. Throws
 * DEMOTE_LAST_MANAGER or DEMOTE_WOULD_LOSE_QUORUM with the numbers.
 */
export function checkRemovalKeepsQuorum(memberId: string, view: QuorumView): void {
  const remaining = view.voters.filter((id) => id !== memberId);
  if (remaining.length === 0) throw new TsswarmError('DEMOTE_LAST_MANAGER', { nodeId: memberId });
  const reachable = remaining.filter((id) => view.reachable.has(id)).length;
  const quorum = Math.floor(remaining.length / 2) + 1;
  if (reachable < quorum) throw new TsswarmError('DEMOTE_WOULD_LOSE_QUORUM', { nodeId: memberId, reachable, remaining: remaining.length, quorum });
}

/** `node promote|demote` take a role name; the store's form. */
export function parseNodeRole(role: string): 'MANAGER' | 'WORKER' {
  if (role === 'manager') return 'MANAGER';
  if (role === 'worker') return 'WORKER';
  throw new TsswarmError('SWARM_INVALID_OPTION', { option: 'the role', value: JSON.stringify(role), reason: 'it must be "manager" or "worker"' });
}
