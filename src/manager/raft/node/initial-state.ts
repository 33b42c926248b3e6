import { TsswarmError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import { MemoryStorage, bootstrapSnapshot } from '../core/index.js';
import type { ConfState, NodeId } from '../types.js';
import type { DurableLog, RecoveredState } from './durable-log.js';
import { decodeSnapshotData, encodeSnapshotData } from './snapshot-envelope.js';
import type { StateMachine } from './state-machine.js';

export interface InitialState {
  readonly storage: MemoryStorage;
  /** Index the state machine holds after restoring the snapshot (0 without one). */
  readonly applied: number;
  readonly confState: ConfState;
  /** Member addresses carried by the snapshot. */
  readonly members: ReadonlyMap<NodeId, string>;
}

/**
 * Builds the in-memory log and the state machine from what the disk held: the newest snapshot
 * plus the WAL's entries and hard state. A node with an empty disk and `initialMembers`
 * bootstraps a new cluster: every initial member writes the same snapshot at index 1 (the
 * voters and their addresses), so their logs agree from the start.
 */
export async function loadInitialState(
  id: NodeId,
  recovered: RecoveredState,
  log: DurableLog,
  sm: StateMachine,
  initialMembers: ReadonlyMap<NodeId, string> | undefined,
  logger: Logger,
): Promise<InitialState> {
  const storage = new MemoryStorage();
  let snapshot = recovered.snapshot;
  const fresh = snapshot === undefined && recovered.entries.length === 0 && recovered.hardState.term === 0;
  if (fresh && initialMembers !== undefined && initialMembers.size > 0) {
    if (!initialMembers.has(id)) {
      throw new TsswarmError('CONFIG_INVALID', { component: 'raft node', problems: `initialMembers must include this node (${id})` });
    }
    snapshot = bootstrapSnapshot([...initialMembers.keys()].sort(), encodeSnapshotData(initialMembers, sm.snapshot()));
    await log.saveSnapshot(snapshot);
    logger.info({ members: [...initialMembers] }, 'bootstrapped a new cluster');
  }
  let applied = 0;
  let confState: ConfState = { voters: [], learners: [] };
  let members: ReadonlyMap<NodeId, string> = new Map();
  if (snapshot !== undefined) {
    storage.applySnapshot(snapshot);
    const contents = decodeSnapshotData(snapshot.data);
    sm.restore(contents.app);
    members = contents.members;
    applied = snapshot.metadata.index;
    confState = snapshot.metadata.confState;
  }
  // A snapshot is committed by definition: the hard state never lags it (the bootstrap
  // snapshot is written before any hard state exists).
  const hs = recovered.hardState;
  storage.setHardState(
    snapshot === undefined
      ? hs
      : { term: Math.max(hs.term, snapshot.metadata.term), vote: hs.vote, commit: Math.max(hs.commit, snapshot.metadata.index) },
  );
  storage.append(recovered.entries);
  if (!fresh) {
    logger.info(
      { snapshotIndex: applied, entries: recovered.entries.length, hardState: recovered.hardState, tornTail: recovered.tornTailTruncated },
      'recovered raft state from disk',
    );
  }
  return { storage, applied, confState, members };
}
