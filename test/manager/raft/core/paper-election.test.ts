// Raft paper (Ongaro & Ousterhout, extended version): §5.1 terms, §5.2 leader election,
// §5.4.1 election restriction. Pre-vote and check-quorum are off unless a test says otherwise,
// so these tests see the algorithm exactly as the paper describes it.
import { describe, expect, it } from 'vitest';
import { MessageType, NO_NODE } from '../../../../src/manager/raft/types.js';
import type { Role } from '../../../../src/manager/raft/types.js';
import { Network } from './helpers/network.js';
import { makeLeader, msg, ofType, solo } from './helpers/solo.js';
import type { Solo } from './helpers/solo.js';

const plain = { preVote: false, checkQuorum: false };
const peers = ['a', 'b', 'c'];

function inRole(role: Role): Solo {
  const s = solo('a', peers, { tunables: plain, terms: [1], term: 1 });
  if (role === 'candidate') {
    s.core.campaign();
    s.drain();
  } else if (role === 'leader') {
    makeLeader(s, ['b']);
  }
  expect(s.core.status().role).toBe(role);
  return s;
}

describe('§5.1 terms', () => {
  it.each([
    { role: 'follower' as const, type: MessageType.App, lead: 'b' },
    { role: 'follower' as const, type: MessageType.Vote, lead: NO_NODE },
    { role: 'candidate' as const, type: MessageType.App, lead: 'b' },
    { role: 'candidate' as const, type: MessageType.Heartbeat, lead: 'b' },
    { role: 'candidate' as const, type: MessageType.Vote, lead: NO_NODE },
    { role: 'leader' as const, type: MessageType.Heartbeat, lead: 'b' },
    { role: 'leader' as const, type: MessageType.AppResp, lead: NO_NODE },
    { role: 'leader' as const, type: MessageType.Vote, lead: NO_NODE },
  ])('a $role that sees a higher term in message type $type becomes follower of that term', ({ role, type, lead }) => {
    const s = inRole(role);
    const term = s.core.status().term + 5;
    s.core.step(msg({ type, to: 'a', from: 'b', term, index: 1, logTerm: 1 }));
    const st = s.core.status();
    expect(st.role).toBe('follower');
    expect(st.term).toBe(term);
    expect(st.leader).toBe(lead);
  });

  it('a server rejects requests with a stale term', () => {
    const s = solo('a', peers, { tunables: plain, terms: [1, 2], term: 3 });
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 2, index: 2, logTerm: 2, entries: [{ term: 2, index: 3, type: 0, data: new Uint8Array(1) }] }));
    s.core.step(msg({ type: MessageType.Vote, to: 'a', from: 'c', term: 2, index: 9, logTerm: 9 }));
    const out = s.drain();
    expect(s.storage.lastIndex()).toBe(2);
    expect(ofType(out, MessageType.VoteResp)).toEqual([]);
    expect(s.core.status()).toMatchObject({ term: 3, role: 'follower', leader: NO_NODE });
  });

  it('a stale leader learns the current term from the answer to its heartbeat and steps down', () => {
    // Check-quorum off, so the cut-off leader keeps believing it leads.
    const net = new Network(peers, { tunables: { preVote: true, checkQuorum: false } });
    net.elect('a');
    net.isolate('a');
    net.tickAll(40);
    const newLeader = net.leaders().find((id) => id !== 'a')!;
    expect(newLeader).toBeDefined();
    expect(net.core('a').status().role).toBe('leader');
    net.recover();
    // Only the third node can answer a: the new leader's own heartbeats never reach it.
    const other = peers.find((id) => id !== 'a' && id !== newLeader)!;
    net.cut('a', newLeader);
    net.core('a').step(msg({ type: MessageType.Beat, to: 'a', from: 'a' }));
    net.stabilize();
    expect(net.core('a').status().role).toBe('follower');
    expect(net.core('a').status().term).toBe(net.core(other).status().term);
  });
});

describe('§5.2 leader election', () => {
  it('follower starts election after election timeout: increments term, votes for itself, asks every voter', () => {
    const s = solo('a', peers, { tunables: { ...plain, electionTick: 10 } });
    for (let i = 0; i < 19; i++) s.core.tick(); // randomized timeout is at most 2*10-1
    const out = s.drain();
    expect(s.core.status()).toMatchObject({ role: 'candidate', term: 1, vote: 'a' });
    expect(ofType(out, MessageType.Vote).map((m) => [m.to, m.term])).toEqual([['b', 1], ['c', 1]]);
  });

  it('follower does not start an election while it hears from the leader', () => {
    const net = new Network(peers, { tunables: plain });
    net.elect('a');
    net.tickAll(100);
    expect(net.leaders()).toEqual(['a']);
    expect(net.core('b').status().term).toBe(1);
  });

  it('leader sends heartbeats every heartbeatTick', () => {
    const s = solo('a', peers, { tunables: { ...plain, heartbeatTick: 3 } });
    makeLeader(s, ['b']);
    s.core.tick();
    s.core.tick();
    expect(ofType(s.drain(), MessageType.Heartbeat)).toEqual([]);
    s.core.tick();
    expect(ofType(s.drain(), MessageType.Heartbeat).map((m) => m.to)).toEqual(['b', 'c']);
  });

  it.each([
    { size: 1, votes: {}, role: 'leader' },
    { size: 3, votes: { b: true }, role: 'leader' },
    { size: 3, votes: { b: false }, role: 'candidate' },
    { size: 3, votes: { b: false, c: false }, role: 'follower' },
    { size: 5, votes: { b: true }, role: 'candidate' },
    { size: 5, votes: { b: true, c: true }, role: 'leader' },
    { size: 5, votes: { b: false, c: false, d: false }, role: 'follower' },
    { size: 5, votes: { b: true, c: false, d: false, e: true }, role: 'leader' },
  ])('candidate of $size voters with votes $votes ends as $role (wins only with a majority)', ({ size, votes, role }) => {
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
    const s = solo('a', ids, { tunables: plain });
    s.core.campaign();
    s.drain();
    for (const [from, granted] of Object.entries(votes)) {
      s.core.step(msg({ type: MessageType.VoteResp, to: 'a', from, term: 1, reject: !granted }));
    }
    s.drain();
    expect(s.core.status().role).toBe(role);
  });

  it('each server votes for at most one candidate per term, first come first served', () => {
    const s = solo('a', peers, { tunables: plain });
    s.core.step(msg({ type: MessageType.Vote, to: 'a', from: 'b', term: 1 }));
    s.core.step(msg({ type: MessageType.Vote, to: 'a', from: 'c', term: 1 }));
    const resps = ofType(s.drain(), MessageType.VoteResp);
    expect(resps.map((m) => [m.to, m.reject])).toEqual([['b', false], ['c', true]]);
    expect(s.storage.initialState().hardState.vote).toBe('b');
  });

  it('a candidate that hears from a leader of its term becomes its follower', () => {
    const s = inRole('candidate');
    const term = s.core.status().term;
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'c', term, index: 1, logTerm: 1 }));
    expect(s.core.status()).toMatchObject({ role: 'follower', leader: 'c', term });
  });

  it('a candidate starts a new election (higher term) after a split vote times out', () => {
    const s = inRole('candidate');
    const term = s.core.status().term;
    for (let i = 0; i < 20; i++) s.core.tick();
    expect(s.core.status()).toMatchObject({ role: 'candidate', term: term + 1 });
  });

  it('randomized timeouts: a follower campaigns after a timeout drawn from [electionTick, 2*electionTick)', () => {
    const electionTick = 10;
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const s = solo('a', peers, { tunables: { ...plain, electionTick }, seed });
      let ticks = 0;
      while (s.core.status().role === 'follower') {
        s.core.tick();
        ticks++;
        if (ticks > 100) throw new Error('never campaigned');
      }
      expect(ticks).toBeGreaterThanOrEqual(electionTick);
      expect(ticks).toBeLessThan(2 * electionTick);
      seen.add(ticks);
    }
    // Spread over the range, which is what makes split votes rare.
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it('elections converge on exactly one leader per term from many seeds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], { seed, tunables: plain });
      net.tickAll(60);
      const leaders = net.leaders();
      expect(leaders.length).toBe(1);
      const term = net.core(leaders[0]!).status().term;
      for (const n of net.nodes.values()) {
        expect(n.core.status().term).toBe(term);
        expect(n.core.status().leader).toBe(leaders[0]);
      }
    }
  });
});

describe('§5.4.1 election restriction', () => {
  // The voter's log ends at index 3, term 2.
  it.each([
    { lastIndex: 3, lastTerm: 2, granted: true, why: 'same last entry' },
    { lastIndex: 4, lastTerm: 2, granted: true, why: 'longer, same last term' },
    { lastIndex: 1, lastTerm: 3, granted: true, why: 'shorter but later last term' },
    { lastIndex: 2, lastTerm: 2, granted: false, why: 'shorter with the same last term' },
    { lastIndex: 9, lastTerm: 1, granted: false, why: 'longer but earlier last term' },
  ])('voter denies vote to a candidate with a less up-to-date log ($why)', ({ lastIndex, lastTerm, granted }) => {
    const s = solo('a', peers, { tunables: plain, terms: [1, 1, 2], term: 2 });
    s.core.step(msg({ type: MessageType.Vote, to: 'a', from: 'b', term: 3, index: lastIndex, logTerm: lastTerm }));
    const [resp] = ofType(s.drain(), MessageType.VoteResp);
    expect(resp?.reject).toBe(!granted);
  });

  it('a node missing committed entries cannot become leader', () => {
    const net = new Network(peers, { tunables: plain });
    net.elect('a');
    net.isolate('c');
    net.propose('a', 'x');
    net.recover();
    net.isolate('a');
    net.elect('c');
    expect(net.core('c').status().role).not.toBe('leader');
    net.elect('b');
    expect(net.leaders()).toContain('b');
    expect(net.appliedData('b')).toEqual(['x']);
  });
});
