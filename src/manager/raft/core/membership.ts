import { NO_NODE } from '../types.js';
import type { ConfChange, ConfState } from '../types.js';
import type { Raft } from './raft.js';
import { bcastAppend, maybeCommit } from './leader.js';

/**
 * Apply a committed ConfChange (the driver calls this in log order on every member, so every
 * member reaches the same configuration). Changes that make no sense for the current
 * configuration are ignored rather than thrown: the entry is committed everywhere, and
 * throwing would stop every manager at the same index.
 */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const { trk } = r;
  const id = cc.nodeId;
  const next = r.log.lastIndex() + 1;
  switch (cc.type) {
    case 'addLearner':
      if (id === NO_NODE || trk.voters.has(id) || trk.learners.has(id)) break;
      trk.addLearner(id, next);
      break;
    case 'promote':
      if (trk.learners.has(id)) trk.addVoter(id, next);
      break;
    case 'remove':
      // Never remove the last voter: nobody could ever commit again.
      if (trk.voters.has(id) && trk.voters.size === 1) break;
      trk.remove(id);
      break;
  }
  r.logger?.info({ change: cc.type, nodeId: id, conf: trk.confState() }, 'raft configuration changed');
  if (r.role === 'leader') afterLeaderConfChange(r);
  return trk.confState();
}

function afterLeaderConfChange(r: Raft): void {
  if (!r.trk.voters.has(r.id)) {
    // Our own removal is applied: stop leading so the remaining voters elect a leader.
    r.becomeFollower(r.term, NO_NODE);
    return;
  }
  if (r.leadTransferee !== NO_NODE && !r.trk.voters.has(r.leadTransferee)) r.abortLeaderTransfer();
  // A smaller quorum may commit more now, and a new learner needs a first probe.
  maybeCommit(r);
  bcastAppend(r, true);
}
