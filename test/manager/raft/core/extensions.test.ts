// Beyond the paper's core: pre-vote and check-quorum with the leader lease (thesis §9.6),
// leadership transfer (thesis §3.10), and the transport's unreachable reports.
import { describe, expect, it } from 'vitest';
import { MessageType, NO_NODE } from '../../../../src/manager/raft/types.js';
import type { Message } from '../../../../src/manager/raft/types.js';
import { TRANSFER_CONTEXT } from '../../../../src/manager/raft/core/index.js';
import { Network, bytes } from './helpers/network.js';
import { makeLeader, msg, ofType, solo } from './helpers/solo.js';

const peers = ['a', 'b', 'c'];

describe('pre-vote', () => {
  it('a node that cannot win does not bump terms', () => {
    const net = new Network(peers, { tunables: { preVote: true, checkQuorum: true } });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    expect(net.core('c').status().term).toBe(1);
    expect(['preCandidate', 'follower']).toContain(net.core('c').status().role);
  });

  it('a node rejoining from a partition does not disrupt the leader', () => {
    const net = new Network(peers, { tunables: { preVote: true, checkQuorum: true } });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    net.recover();
    net.tickAll(30);
    expect(net.leaders()).toEqual(['a']);
    for (const id of peers) expect(net.core(id).status().term).toBe(1);
  });

  it('without pre-vote the same rejoin deposes the leader (what pre-vote prevents)', () => {
    const net = new Network(peers, { tunables: { preVote: false, checkQuorum: false } });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    expect(net.core('c').status().term).toBeGreaterThan(1);
    net.recover();
    net.tickAll(30); // c's next election timeout
    expect(net.core('a').status().term).toBeGreaterThan(1);
  });

  it('pre-vote changes neither term nor vote on either side; a granted pre-vote leads to a real election', () => {
    const s = solo('a', peers, { tunables: { preVote: true, checkQuorum: false } });
    s.core.campaign();
    const pre = ofType(s.drain(), MessageType.PreVote);
    expect(pre.map((m) => [m.to, m.term])).toEqual([['b', 1], ['c', 1]]);
    expect(s.core.status()).toMatchObject({ role: 'preCandidate', term: 0, vote: NO_NODE });
    s.core.step(msg({ type: MessageType.PreVoteResp, to: 'a', from: 'b', term: 1 }));
    const votes = ofType(s.drain(), MessageType.Vote);
    expect(votes.map((m) => m.term)).toEqual([1, 1]);
    expect(s.core.status()).toMatchObject({ role: 'candidate', term: 1, vote: 'a' });

    const voter = solo('b', peers, { tunables: { preVote: true, checkQuorum: false } });
    voter.core.step(msg({ type: MessageType.PreVote, to: 'b', from: 'a', term: 1 }));
    const [resp] = ofType(voter.drain(), MessageType.PreVoteResp);
    expect(resp).toMatchObject({ reject: false, term: 1 });
    expect(voter.core.status()).toMatchObject({ term: 0, vote: NO_NODE });
  });

  it('a pre-candidate rejected by a majority returns to follower', () => {
    const s = solo('a', peers, { tunables: { preVote: true, checkQuorum: false } });
    s.core.campaign();
    s.drain();
    s.core.step(msg({ type: MessageType.PreVoteResp, to: 'a', from: 'b', term: 0, reject: true }));
    s.core.step(msg({ type: MessageType.PreVoteResp, to: 'a', from: 'c', term: 0, reject: true }));
    expect(s.core.status()).toMatchObject({ role: 'follower', term: 0 });
  });
});

describe('check-quorum and the leader lease', () => {
  it('a leader that has not heard from a quorum within an election timeout steps down', () => {
    const net = new Network(peers, { tunables: { checkQuorum: true, electionTick: 10 } });
    net.elect('a');
    net.isolate('a');
    for (let i = 0; i < 21; i++) net.tick('a');
    expect(net.core('a').status().role).toBe('follower');
  });

  it('without check-quorum the isolated leader lingers', () => {
    const net = new Network(peers, { tunables: { checkQuorum: false, electionTick: 10 } });
    net.elect('a');
    net.isolate('a');
    net.tick('a', 100);
    expect(net.core('a').status().role).toBe('leader');
  });

  it('a leader that hears from a quorum stays leader', () => {
    const net = new Network(peers, { tunables: { checkQuorum: true } });
    net.elect('a');
    net.isolate('c');
    net.tickAll(100);
    expect(net.leaders()).toEqual(['a']);
  });

  it.each([
    { kind: 'Vote', type: MessageType.Vote, resp: MessageType.VoteResp },
    { kind: 'PreVote', type: MessageType.PreVote, resp: MessageType.PreVoteResp },
  ])('a follower that heard from its leader within the election timeout ignores $kind requests', ({ type, resp }) => {
    const s = solo('b', peers, { tunables: { checkQuorum: true, preVote: true } });
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'b', from: 'a', term: 1 }));
    s.drain();
    s.core.step(msg({ type, to: 'b', from: 'c', term: 2, index: 5, logTerm: 5 }));
    expect(ofType(s.drain(), resp)).toEqual([]);
    expect(s.core.status()).toMatchObject({ term: 1, leader: 'a' });
  });

  it('the lease does not stop a vote caused by a leadership transfer (TimeoutNow)', () => {
    const s = solo('b', peers, { tunables: { checkQuorum: true, preVote: true } });
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'b', from: 'a', term: 1 }));
    s.drain();
    s.core.step(msg({ type: MessageType.Vote, to: 'b', from: 'c', term: 2, index: 5, logTerm: 5, context: TRANSFER_CONTEXT }));
    const [resp] = ofType(s.drain(), MessageType.VoteResp);
    expect(resp).toMatchObject({ reject: false, term: 2 });
  });

  it('once the lease has run out (an election timeout of silence), votes are answered', () => {
    const s = solo('b', peers, { tunables: { checkQuorum: true, preVote: true, electionTick: 10 } });
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'b', from: 'a', term: 1 }));
    s.drain();
    for (let i = 0; i < 10; i++) s.core.tick();
    s.drain();
    s.core.step(msg({ type: MessageType.PreVote, to: 'b', from: 'c', term: 2, index: 5, logTerm: 5 }));
    expect(ofType(s.drain(), MessageType.PreVoteResp).map((m) => m.reject)).toEqual([false]);
  });
});

describe('leadership transfer', () => {
  it('transfers to an up-to-date follower: TimeoutNow, then it wins at once despite the lease', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    net.core('a').transferLeader('b');
    net.stabilize();
    expect(net.leaders()).toEqual(['b']);
    expect(net.sent(MessageType.TimeoutNow, { from: 'a', to: 'b' }).length).toBe(1);
    net.propose('b', 'y');
    expect(net.appliedData('a')).toEqual(['x', 'y']);
  });

  it('brings a lagging target up to date first, and drops proposals meanwhile', () => {
    const net = new Network(peers);
    net.elect('a');
    net.isolate('c');
    net.propose('a', 'x');
    net.core('a').transferLeader('c');
    expect(net.core('a').status().leadTransferee).toBe('c');
    expect(net.core('a').propose(new Uint8Array(1))).toMatchObject({ ok: false, code: 'RAFT_PROPOSAL_DROPPED' });
    net.stabilize();
    expect(net.sent(MessageType.TimeoutNow).length).toBe(0);
    net.recover();
    net.tickAll(2);
    expect(net.leaders()).toEqual(['c']);
    expect(net.appliedData('c')).toEqual(['x']);
  });

  it('is abandoned after an election timeout if the target does not take over', () => {
    const net = new Network(peers, { tunables: { electionTick: 10 } });
    net.elect('a');
    net.isolate('c');
    net.core('a').transferLeader('c');
    net.stabilize();
    for (let i = 0; i < 10; i++) net.tick('a');
    net.stabilize();
    expect(net.core('a').status()).toMatchObject({ role: 'leader', leadTransferee: NO_NODE });
    expect(net.core('a').propose(new Uint8Array(1)).ok).toBe(true);
  });

  it('ignores transfers to itself, to learners and to non-members', () => {
    const s = solo('a', peers, { learners: ['d'], tunables: { preVote: false, checkQuorum: false } });
    makeLeader(s, ['b']);
    for (const to of ['a', 'd', 'zz']) {
      s.core.transferLeader(to);
      expect(s.core.status().leadTransferee).toBe(NO_NODE);
    }
  });
});

describe('reportUnreachable', () => {
  it('on a follower whose leader is unreachable, ends the lease: votes are answered and it campaigns within electionTick ticks', () => {
    const electionTick = 10;
    for (let seed = 0; seed < 20; seed++) {
      const s = solo('b', peers, { tunables: { checkQuorum: true, preVote: true, electionTick }, seed });
      s.core.step(msg({ type: MessageType.Heartbeat, to: 'b', from: 'a', term: 1 }));
      s.drain();
      s.core.reportUnreachable('a');
      s.core.step(msg({ type: MessageType.PreVote, to: 'b', from: 'c', term: 2 }));
      expect(ofType(s.drain(), MessageType.PreVoteResp).map((m) => m.reject)).toEqual([false]);
      let ticks = 0;
      while (s.core.status().role === 'follower') {
        s.core.tick();
        ticks++;
      }
      expect(ticks).toBeLessThanOrEqual(electionTick);
      // Safety is unchanged: the term moves only through a (pre-)election.
      expect(s.core.status()).toMatchObject({ role: 'preCandidate', term: 1 });
    }
  });

  it('on a follower, a report about a node that is not its leader changes nothing', () => {
    const s = solo('b', peers, { tunables: { checkQuorum: true, preVote: true } });
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'b', from: 'a', term: 1 }));
    s.drain();
    s.core.reportUnreachable('c');
    s.core.step(msg({ type: MessageType.PreVote, to: 'b', from: 'c', term: 2 }));
    expect(ofType(s.drain(), MessageType.PreVoteResp)).toEqual([]);
  });

  it('on the leader, moves a replicating follower to probe', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    expect(net.core('a').status().progress!.get('b')!.state).toBe('replicate');
    net.core('a').reportUnreachable('b');
    expect(net.core('a').status().progress!.get('b')!.state).toBe('probe');
  });
});

describe('proposals', () => {
  it('a follower refuses with RAFT_NOT_LEADER and names the leader', () => {
    const net = new Network(peers);
    net.elect('a');
    expect(net.core('b').propose(new Uint8Array(1))).toMatchObject({ ok: false, code: 'RAFT_NOT_LEADER', leader: 'a' });
    expect(net.core('b').proposeConfChange({ type: 'remove', nodeId: 'c' })).toMatchObject({ ok: false, code: 'RAFT_NOT_LEADER' });
  });

  it('a Prop message stepped on a follower is dropped, not forwarded', () => {
    const net = new Network(peers);
    net.elect('a');
    const last = net.node('a').storage.lastIndex();
    net.send(msg({ type: MessageType.Prop, to: 'b', from: 'b', entries: [{ index: 0, term: 0, type: 0, data: new Uint8Array(1) }] }));
    expect(net.node('a').storage.lastIndex()).toBe(last);
    expect(net.sent(MessageType.Prop).length).toBe(0);
  });

  it('the leader drops proposals past maxUncommittedEntriesSize until entries commit', () => {
    const net = new Network(peers, { tunables: { maxUncommittedEntriesSize: 100 } });
    net.elect('a');
    net.isolate('b');
    net.isolate('c');
    expect(net.core('a').propose(new Uint8Array(60)).ok).toBe(true);
    expect(net.core('a').propose(new Uint8Array(60))).toMatchObject({ ok: false, code: 'RAFT_PROPOSAL_DROPPED' });
    net.recover();
    net.tickAll(2);
    expect(net.core('a').propose(new Uint8Array(60)).ok).toBe(true);
  });

  it('a single-voter cluster commits on its own', () => {
    const net = new Network(['a']);
    net.elect('a');
    net.propose('a', 'x');
    expect(net.appliedData('a')).toEqual(['x']);
  });
});

describe('recovery from lost messages', () => {
  it('a full window of lost Apps does not stall replication: a heartbeat answer frees a slot', () => {
    const net = new Network(peers, { tunables: { maxInflightMsgs: 2 } });
    net.elect('a');
    net.propose('a', 'warm-up');
    net.ignore(MessageType.App);
    for (const d of ['x', 'y', 'z']) {
      net.core('a').propose(bytes(d));
      net.stabilize();
    }
    expect(net.core('a').status().progress!.get('b')).toMatchObject({ state: 'replicate' });
    net.recover();
    net.tickAll(3);
    expect(net.appliedData('b')).toEqual(['warm-up', 'x', 'y', 'z']);
  });

  it('a snapshot that arrived without a report, after further compaction, is followed by a newer one', () => {
    const net = new Network(peers);
    net.elect('a');
    net.isolate('c');
    net.propose('a', 'x');
    const a = net.node('a');
    const compact = (): void => {
      const st = a.core.status();
      a.storage.createSnapshot(st.applied, st.confState, bytes(`upto-${st.applied}`));
      a.storage.compact(st.applied);
    };
    compact();
    net.recover();
    // Delay c's answer to the snapshot while the leader compacts further.
    const held: Message[] = [];
    net.hook = (m) => {
      if (m.from !== 'c' || m.type !== MessageType.AppResp || m.reject) return true;
      held.push(m);
      return false;
    };
    net.tickAll(2);
    expect(net.sent(MessageType.Snap, { to: 'c' }).length).toBe(1);
    net.hook = undefined;
    net.propose('a', 'y');
    compact();
    net.queue.push(...held);
    net.tickAll(3);
    expect(net.sent(MessageType.Snap, { to: 'c' }).length).toBe(2);
    net.propose('a', 'z');
    expect(net.appliedData('c')).toEqual(['z']);
    expect(net.core('a').status().progress!.get('c')!.state).toBe('replicate');
  });
});
