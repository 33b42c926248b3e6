import { createRaftCore, defaultRaftCoreTunables, makeMessage, MemoryStorage } from '../../../../../src/manager/raft/core/index.js';
import type { MessageFields, RaftCoreTunables } from '../../../../../src/manager/raft/core/index.js';
import { MessageType } from '../../../../../src/manager/raft/types.js';
import type { Entry, Message, NodeId, RaftCore, Ready } from '../../../../../src/manager/raft/types.js';
import { seededRng } from '../../../../../src/util/rng.js';
import { storageWithTerms } from './network.js';

/** One core driven by hand: the test plays every other member by stepping messages into it. */
export interface Solo {
  readonly core: RaftCore;
  readonly storage: MemoryStorage;
  /** Process every pending Ready (persist, advance) and return the messages it sent. */
  drain(): Message[];
  /** Committed entries handed out so far. */
  readonly committed: Entry[];
  readonly readies: Ready[];
}

export interface SoloOptions {
  /** The log's terms: entry i+1 has term terms[i] (and the hard state's term is the last). */
  terms?: readonly number[];
  /** Hard state term override (default: last log term). */
  term?: number;
  learners?: readonly NodeId[];
  tunables?: Partial<RaftCoreTunables>;
  seed?: number;
}

export function solo(id: NodeId, voters: readonly NodeId[], options: SoloOptions = {}): Solo {
  const conf = { voters: [...voters], learners: [...(options.learners ?? [])] };
  const storage = options.terms === undefined ? new MemoryStorage(conf) : storageWithTerms(conf, options.terms);
  if (options.term !== undefined) storage.setHardState({ term: options.term, vote: '', commit: 0 });
  const core = createRaftCore({
    ...defaultRaftCoreTunables,
    ...options.tunables,
    id,
    storage,
    rng: seededRng(options.seed ?? 7),
  });
  const committed: Entry[] = [];
  const readies: Ready[] = [];
  return {
    core,
    storage,
    committed,
    readies,
    drain(): Message[] {
      const out: Message[] = [];
      while (core.hasReady()) {
        const rd = core.ready();
        readies.push(rd);
        if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
        storage.append(rd.entries);
        if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
        out.push(...rd.messages);
        committed.push(...rd.committedEntries);
        core.advance(rd);
      }
      return out;
    },
  };
}

/** A message from a peer, with every unset field zero. */
export function msg(fields: MessageFields): Message {
  return makeMessage(fields);
}

export function ofType(msgs: readonly Message[], type: MessageType): Message[] {
  return msgs.filter((m) => m.type === type);
}

/** Make a solo core leader of term+1 by granting it votes from the given peers (pre-vote off or on). */
export function makeLeader(s: Solo, grantFrom: readonly NodeId[]): void {
  s.core.campaign();
  let msgs = s.drain();
  if (msgs.some((m) => m.type === MessageType.PreVote)) {
    const term = msgs.find((m) => m.type === MessageType.PreVote)!.term;
    for (const from of grantFrom) {
      s.core.step(msg({ type: MessageType.PreVoteResp, to: s.core.status().id, from, term }));
    }
    msgs = s.drain();
  }
  const term = s.core.status().term;
  for (const from of grantFrom) {
    s.core.step(msg({ type: MessageType.VoteResp, to: s.core.status().id, from, term }));
  }
  s.drain();
  if (s.core.status().role !== 'leader') throw new Error('makeLeader: did not become leader');
}
