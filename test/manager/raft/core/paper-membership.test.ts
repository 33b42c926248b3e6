// Raft paper §6 cluster membership changes, done one member at a time (thesis §4.1), with
// learners (non-voting members) as the first step of adding a manager.
import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../../src/manager/raft/types.js';
import type { ConfChange } from '../../../../src/manager/raft/types.js';
import { decodeConfChange, encodeConfChange } from '../../../../src/manager/raft/core/index.js';
import { Network } from './helpers/network.js';
import { makeLeader, msg, solo } from './helpers/solo.js';

const peers = ['a', 'b', 'c'];

function changeAndSettle(net: Network, leader: string, cc: ConfChange): void {
  const res = net.core(leader).proposeConfChange(cc);
  expect(res.ok).toBe(true);
  net.stabilize();
}

describe('§6 one-at-a-time membership', () => {
  it('a new member joins as a learner: it receives the log but does not vote', () => {
    const net = new Network(peers, { joiners: ['d'], bootstrap: true });
    net.elect('a');
    net.propose('a', 'x');
    changeAndSettle(net, 'a', { type: 'addLearner', nodeId: 'd', context: new TextEncoder().encode('10.0.0.4:2377') });
    net.propose('a', 'y');
    expect(net.appliedData('d')).toEqual(['x', 'y']);
    for (const id of [...peers, 'd']) {
      expect(net.core(id).status().confState).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    }
    // The address travels with the change, so every member learns it.
    const cc = net.node('b').readies.flatMap((r) => r.committedEntries).filter((e) => e.type === 1).map((e) => decodeConfChange(e.data));
    expect(new TextDecoder().decode(cc[0]!.context)).toBe('10.0.0.4:2377');
  });

  it('learners never campaign', () => {
    const net = new Network(peers, { joiners: ['d'], bootstrap: true });
    net.elect('a');
    changeAndSettle(net, 'a', { type: 'addLearner', nodeId: 'd' });
    net.isolate('a');
    net.tick('d', 100);
    net.processAll();
    expect(net.core('d').status().role).toBe('follower');
    expect(net.queue.filter((m) => m.from === 'd' && (m.type === MessageType.Vote || m.type === MessageType.PreVote))).toEqual([]);
    expect(net.core('d').campaign()).toBeUndefined();
    expect(net.core('d').status().role).toBe('follower');
  });

  it('learners never count toward the commit quorum', () => {
    const net = new Network(['a', 'b'], { joiners: ['c', 'd'], bootstrap: true });
    net.elect('a');
    changeAndSettle(net, 'a', { type: 'addLearner', nodeId: 'c' });
    changeAndSettle(net, 'a', { type: 'addLearner', nodeId: 'd' });
    net.isolate('b');
    const res = net.propose('a', 'x');
    expect(res.ok).toBe(true);
    // a, c and d have the entry (3 of 4 members) but only a of the 2 voters does.
    expect(net.node('c').storage.lastIndex()).toBe(net.node('a').storage.lastIndex());
    expect(net.appliedData('a')).toEqual([]);
    net.recover();
    net.tickAll(2);
    expect(net.appliedData('a')).toEqual(['x']);
  });

  it('a candidate does not count a learner vote', () => {
    const s = solo('a', ['a', 'b', 'c'], { learners: ['d', 'e'], tunables: { preVote: false, checkQuorum: false } });
    s.core.campaign();
    s.drain();
    s.core.step(msg({ type: MessageType.VoteResp, to: 'a', from: 'd', term: 1 }));
    s.core.step(msg({ type: MessageType.VoteResp, to: 'a', from: 'e', term: 1 }));
    s.drain();
    expect(s.core.status().role).toBe('candidate');
  });

  it('promote turns a caught-up learner into a voter that then counts for quorum and may lead', () => {
    // No leader lease here, so that c can be elected right after a goes away.
    const net = new Network(['a', 'b'], { joiners: ['c'], bootstrap: true, tunables: { preVote: false, checkQuorum: false } });
    net.elect('a');
    changeAndSettle(net, 'a', { type: 'addLearner', nodeId: 'c' });
    changeAndSettle(net, 'a', { type: 'promote', nodeId: 'c' });
    expect(net.core('c').status().confState).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
    net.isolate('b');
    net.propose('a', 'x');
    expect(net.appliedData('a')).toEqual(['x']); // a and c are a majority of 3
    net.recover();
    net.isolate('a');
    net.elect('c');
    expect(net.core('c').status().role).toBe('leader');
  });

  it('a leader refuses a second change while one is proposed but not applied', () => {
    const net = new Network(peers, { joiners: ['d', 'e'], bootstrap: true });
    net.elect('a');
    const first = net.core('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    const second = net.core('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' });
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, code: 'RAFT_CONF_CHANGE_IN_PROGRESS' });
    net.stabilize();
    expect(net.core('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' }).ok).toBe(true);
  });

  it('a new leader refuses a change until it has applied every entry already in its log', () => {
    // Entries 1-2 come from an earlier term; any of them could be a conf change.
    const s = solo('a', peers, { terms: [1, 1], term: 1, tunables: { preVote: false, checkQuorum: false } });
    makeLeader(s, ['b']);
    expect(s.core.proposeConfChange({ type: 'remove', nodeId: 'c' })).toMatchObject({ ok: false, code: 'RAFT_CONF_CHANGE_IN_PROGRESS' });
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 2, index: 3 }));
    s.drain();
    expect(s.core.status().applied).toBe(3);
    expect(s.core.proposeConfChange({ type: 'remove', nodeId: 'c' }).ok).toBe(true);
  });

  it('removing a member shrinks the quorum, so entries it was holding back commit', () => {
    const net = new Network(peers);
    net.elect('a');
    changeAndSettle(net, 'a', { type: 'remove', nodeId: 'c' });
    expect(net.core('a').status().confState.voters).toEqual(['a', 'b']);
    net.isolate('b');
    net.propose('a', 'x');
    expect(net.appliedData('a')).toEqual([]);
    // With b gone too, a alone is the quorum of {a}.
    net.recover();
    changeAndSettle(net, 'a', { type: 'remove', nodeId: 'b' });
    net.isolate('b');
    net.propose('a', 'y');
    expect(net.appliedData('a')).toEqual(['x', 'y']);
  });

  it('a removed leader steps down after applying its own removal and never campaigns again', () => {
    const net = new Network(peers);
    net.elect('a');
    changeAndSettle(net, 'a', { type: 'remove', nodeId: 'a' });
    expect(net.core('a').status().role).toBe('follower');
    net.tickAll(50);
    const leaders = net.leaders();
    expect(leaders.length).toBe(1);
    expect(leaders[0]).not.toBe('a');
    expect(net.core(leaders[0]!).status().confState.voters).toEqual(['b', 'c']);
    net.propose(leaders[0]!, 'x');
    expect(net.appliedData('b')).toEqual(['x']);
  });

  it('nonsensical changes are ignored identically everywhere', () => {
    const net = new Network(['a']);
    net.elect('a');
    for (const cc of [
      { type: 'promote' as const, nodeId: 'zz' },
      { type: 'addLearner' as const, nodeId: 'a' },
      { type: 'remove' as const, nodeId: 'a' },
    ]) {
      changeAndSettle(net, 'a', cc);
    }
    expect(net.node('a').confStates).toEqual([
      { voters: ['a'], learners: [] },
      { voters: ['a'], learners: [] },
      { voters: ['a'], learners: [] },
    ]);
    expect(net.core('a').status().role).toBe('leader');
  });

  it('the conf change entry round-trips through the codec', () => {
    const net = new Network(['a']);
    net.elect('a');
    net.core('a').proposeConfChange({ type: 'addLearner', nodeId: 'n1' });
    const rd = net.core('a').ready();
    const entry = rd.entries.find((e) => e.type === 1)!;
    expect(entry.data).toEqual(encodeConfChange({ type: 'addLearner', nodeId: 'n1' }));
    net.core('a').advance(rd);
  });
});
