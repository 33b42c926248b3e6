import { EntryType, NO_NODE } from '../types.js';
import type { ConfChange, ProposeResult } from '../types.js';
import type { Raft } from './raft.js';
import { encodeConfChange } from './conf-change-codec.js';

type Refusal = Extract<ProposeResult, { ok: false }>;

function refuse(r: Raft, code: Refusal['code'], reason: string): Refusal {
  return { ok: false, code, leader: r.role === 'leader' ? r.id : r.lead, reason };
}

/** Common checks, then append one entry of our term at the end of the log. */
function proposeEntry(r: Raft, type: EntryType, data: Uint8Array): ProposeResult {
  if (r.role !== 'leader') {
    return refuse(r, 'RAFT_NOT_LEADER', r.lead === NO_NODE ? 'no leader is known' : 'this node is not the leader');
  }
  if (r.leadTransferee !== NO_NODE) {
    return refuse(r, 'RAFT_PROPOSAL_DROPPED', `leadership is being transferred to ${r.leadTransferee}`);
  }
  if (!r.trk.progress.has(r.id)) {
    return refuse(r, 'RAFT_PROPOSAL_DROPPED', 'this leader is no longer a member');
  }
  const size = data.byteLength;
  // Always admit a proposal when nothing is outstanding, so one oversized entry still goes through.
  if (r.uncommittedSize > 0 && r.uncommittedSize + size > r.maxUncommittedSize) {
    return refuse(r, 'RAFT_PROPOSAL_DROPPED', 'too much proposed data is waiting to commit');
  }
  if (type === EntryType.ConfChange && r.pendingConfIndex > r.log.applied) {
    return refuse(r, 'RAFT_CONF_CHANGE_IN_PROGRESS', `the change at index ${r.pendingConfIndex} is not applied yet`);
  }
  const index = r.log.lastIndex() + 1;
  r.uncommittedSize += size;
  r.appendEntries([{ term: r.term, index, type, data }]);
  if (type === EntryType.ConfChange) r.pendingConfIndex = index;
  return { ok: true, index, term: r.term };
}

export function propose(r: Raft, data: Uint8Array): ProposeResult {
  return proposeEntry(r, EntryType.Normal, data);
}

export function proposeConfChange(r: Raft, cc: ConfChange): ProposeResult {
  return proposeEntry(r, EntryType.ConfChange, encodeConfChange(cc));
}
