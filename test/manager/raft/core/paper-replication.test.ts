// Raft paper §5.3 log replication, §5.4.2 committing entries from previous terms, §5.5
// follower and candidate crashes (retries, idempotent RPCs).
import { describe, expect, it } from 'vitest';
import { EntryType, MessageType } from '../../../../src/manager/raft/types.js';
import type { Entry } from '../../../../src/manager/raft/types.js';
import { Network, bytes, logTerms, storageWithTerms } from './helpers/network.js';
import { makeLeader, msg, ofType, solo } from './helpers/solo.js';

const plain = { preVote: false, checkQuorum: false };
const peers = ['a', 'b', 'c'];
const entry = (index: number, term: number, data = `e${index}`): Entry => ({ index, term, type: EntryType.Normal, data: bytes(data) });

describe('§5.3 log replication', () => {
  it('leader appends, replicates and commits; every member applies the same entries in order', () => {
    const net = new Network(peers);
    net.elect('a');
    for (const d of ['x', 'y', 'z']) expect(net.propose('a', d).ok).toBe(true);
    for (const id of peers) {
      expect(net.appliedData(id)).toEqual(['x', 'y', 'z']);
      expect(logTerms(net.node(id))).toEqual(logTerms(net.node('a')));
    }
    expect(net.core('a').status().commit).toBe(4); // the new leader's empty entry, then x, y, z
  });

  it('propose returns where the entry will sit in the log', () => {
    const net = new Network(peers);
    net.elect('a');
    const res = net.core('a').propose(bytes('x'));
    expect(res).toEqual({ ok: true, index: 2, term: 1 });
  });

  it('a new leader appends an empty entry of its term', () => {
    const s = solo('a', peers, { tunables: plain, terms: [1, 1], term: 1 });
    makeLeader(s, ['b']);
    expect(s.storage.lastIndex()).toBe(3);
    expect(s.storage.term(3)).toBe(2);
    expect(s.storage.entries(3, 4, Infinity)[0]!.data.length).toBe(0);
  });

  it.each([
    { size: 3, acks: ['b'], committed: true },
    { size: 3, acks: [], committed: false },
    { size: 5, acks: ['b'], committed: false },
    { size: 5, acks: ['b', 'c'], committed: true },
    { size: 5, acks: ['b', 'c', 'd', 'e'], committed: true },
  ])('an entry commits once a majority stores it ($size voters, acks from $acks)', ({ size, acks, committed }) => {
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
    const s = solo('a', ids, { tunables: plain });
    makeLeader(s, ids.slice(1, Math.floor(size / 2) + 1));
    const res = s.core.propose(bytes('x'));
    if (!res.ok) throw new Error('propose failed');
    s.drain();
    for (const from of acks) s.core.step(msg({ type: MessageType.AppResp, to: 'a', from, term: res.term, index: res.index }));
    s.drain();
    expect(s.core.status().commit >= res.index).toBe(committed);
    expect(s.committed.some((e) => e.index === res.index)).toBe(committed);
  });

  it('follower rejects AppendEntries on mismatched prevLogIndex/Term, with a hint', () => {
    const s = solo('a', peers, { tunables: plain, terms: [1, 1, 2, 2], term: 2 });
    // prevLogIndex past our log
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 3, index: 7, logTerm: 3, entries: [entry(8, 3)] }));
    // prevLogTerm differs at index 4: no entry of ours above index 2 (term 1) can match a log
    // whose entry 4 is of term 1.
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 3, index: 4, logTerm: 1, entries: [entry(5, 3)] }));
    const resps = ofType(s.drain(), MessageType.AppResp);
    expect(resps.map((m) => ({ reject: m.reject, index: m.index, hint: m.rejectHint, logTerm: m.logTerm }))).toEqual([
      { reject: true, index: 7, hint: 4, logTerm: 2 },
      { reject: true, index: 4, hint: 2, logTerm: 1 },
    ]);
    expect(s.storage.lastIndex()).toBe(4);
  });

  it('leader backtracks to the match point and overwrites a follower with conflicting entries', () => {
    const conf = { voters: peers, learners: [] };
    const net = new Network([], { tunables: plain });
    net.add('a', storageWithTerms(conf, [1, 1, 3, 3, 3]));
    net.add('b', storageWithTerms(conf, [1, 1, 3, 3, 3]));
    net.add('c', storageWithTerms(conf, [1, 1, 2, 2, 2, 2, 2, 2]));
    net.elect('a');
    expect(net.leaders()).toEqual(['a']);
    net.propose('a', 'x');
    expect(logTerms(net.node('c'))).toEqual(logTerms(net.node('a')));
    expect(logTerms(net.node('c'))).toEqual([1, 1, 3, 3, 3, 4, 4]);
  });

  // Figure 7: the leader of term 8 and followers (a)–(f) with missing or extra entries.
  const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  it.each([
    { name: '(a) missing entries', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6] },
    { name: '(b) missing many entries', terms: [1, 1, 1, 4] },
    { name: '(c) an extra entry of the current leader term', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6] },
    { name: '(d) extra entries of a later term', terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7] },
    { name: '(e) extra entries of an earlier term', terms: [1, 1, 1, 4, 4, 4, 4] },
    { name: '(f) entries of terms the leader never saw', terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3] },
  ])('§5.3 Figure 7 follower $name converges to the leader log', ({ terms }) => {
    const conf = { voters: peers, learners: [] };
    const net = new Network([], { tunables: plain });
    const leader = net.add('a', storageWithTerms(conf, figure7Leader));
    leader.storage.setHardState({ term: 7, vote: '', commit: 0 });
    net.add('b', storageWithTerms(conf, figure7Leader)).storage.setHardState({ term: 7, vote: '', commit: 0 });
    const follower = net.add('c', storageWithTerms(conf, terms));
    follower.storage.setHardState({ term: 7, vote: '', commit: 0 });
    net.restart('a');
    net.restart('b');
    net.restart('c');
    net.elect('a');
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 8 });
    expect(logTerms(follower)).toEqual([...figure7Leader, 8]);
  });

  it('fast backtracking: a long divergent suffix costs a few round trips, not one per entry', () => {
    const conf = { voters: peers, learners: [] };
    const net = new Network([], { tunables: plain });
    const long = [1, ...Array.from({ length: 200 }, () => 2)];
    net.add('a', storageWithTerms(conf, [1, 3, 3, 3]));
    net.add('b', storageWithTerms(conf, [1, 3, 3, 3]));
    net.add('c', storageWithTerms(conf, long));
    net.elect('a');
    expect(logTerms(net.node('c'))).toEqual([1, 3, 3, 3, 4]);
    const rejections = net.sent(MessageType.AppResp, { from: 'c' }).filter((m) => m.reject);
    expect(rejections.length).toBeLessThanOrEqual(2);
  });

  it('batching: proposals between Readies persist in one Ready and go out in one App per follower', () => {
    const s = solo('a', peers, { tunables: plain });
    makeLeader(s, ['b']);
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 1 }));
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'c', term: 1, index: 1 }));
    s.drain();
    for (let i = 0; i < 100; i++) s.core.propose(bytes(`p${i}`));
    const rd = s.core.ready();
    expect(rd.entries.length).toBe(100);
    expect(rd.mustSync).toBe(true);
    const apps = ofType(rd.messages, MessageType.App);
    expect(apps.map((m) => [m.to, m.entries.length])).toEqual([['b', 100], ['c', 100]]);
    s.core.advance(rd);
  });

  it('App messages carry at most maxSizePerMsg bytes of entry data', () => {
    const s = solo('a', ['a', 'b'], { tunables: { ...plain, maxSizePerMsg: 100 } });
    makeLeader(s, ['b']);
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 1 }));
    s.drain();
    for (let i = 0; i < 10; i++) s.core.propose(new Uint8Array(30));
    const apps = ofType(s.drain(), MessageType.App);
    expect(apps.map((m) => m.entries.length)).toEqual([3, 3, 3, 1]);
  });

  it('pipelining and flow control: at most maxInflightMsgs unacknowledged Apps per follower', () => {
    const s = solo('a', ['a', 'b'], { tunables: { ...plain, maxInflightMsgs: 3 } });
    makeLeader(s, ['b']);
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 1 }));
    s.drain();
    const sentBefore = (): number => ofType(s.drain(), MessageType.App).length;
    let sent = 0;
    for (let i = 0; i < 10; i++) {
      s.core.propose(bytes(`p${i}`));
      sent += sentBefore();
    }
    expect(sent).toBe(3); // sent without waiting for acks, up to the window
    expect(s.core.status().progress!.get('b')!.state).toBe('replicate');
    // An ack for the first frees one slot; the rest goes out in one App.
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 2 }));
    const next = ofType(s.drain(), MessageType.App);
    expect(next.length).toBe(1);
    expect(next[0]!.entries.map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10, 11]);
  });

  it('heartbeats carry min(match, commit), never a commit index the follower may not have', () => {
    const s = solo('a', peers, { tunables: plain });
    makeLeader(s, ['b']);
    for (let i = 0; i < 3; i++) s.core.propose(bytes(`p${i}`));
    s.drain();
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 4 }));
    s.drain();
    expect(s.core.status().commit).toBe(4);
    s.core.tick();
    const beats = ofType(s.drain(), MessageType.Heartbeat);
    expect(beats.map((m) => [m.to, m.commit])).toEqual([['b', 4], ['c', 0]]);
  });

  it('a follower commits what the leader says is committed, up to what it has', () => {
    const s = solo('a', peers, { tunables: plain });
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 1)], commit: 1 }));
    s.drain();
    expect(s.core.status().commit).toBe(1);
    expect(s.committed.map((e) => e.index)).toEqual([1]);
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'a', from: 'b', term: 1, commit: 2 }));
    s.drain();
    expect(s.committed.map((e) => e.index)).toEqual([1, 2]);
  });
});

describe('§5.4.2 committing entries from previous terms', () => {
  it('leader never commits entries of earlier terms by counting replicas (Figure 8)', () => {
    // Index 2 holds an entry of term 2 from an earlier leader; we lead term 3 in a 5-node cluster.
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const s = solo('a', ids, { tunables: plain, terms: [1, 2], term: 2 });
    makeLeader(s, ['b', 'c']);
    expect(s.core.status().term).toBe(3);
    const ack = (from: string, index: number): void => {
      s.core.step(msg({ type: MessageType.AppResp, to: 'a', from, term: 3, index }));
      s.drain();
    };
    ack('b', 2);
    ack('c', 2);
    // Index 2 is on a majority (a, b, c) but is of term 2: not committed.
    expect(s.core.status().commit).toBe(0);
    ack('b', 3);
    expect(s.core.status().commit).toBe(0);
    // Once the leader's own-term entry (index 3) is on a majority, both commit.
    ack('c', 3);
    expect(s.core.status().commit).toBe(3);
    expect(s.committed.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('Figure 8 over the network: an old-term entry on a majority is not committed and is later overwritten', () => {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const net = new Network(ids, { tunables: plain });
    const electUntilLeader = (id: string): void => {
      for (let i = 0; i < 3 && net.core(id).status().role !== 'leader'; i++) net.elect(id);
      expect(net.core(id).status().role).toBe('leader');
    };
    net.elect('s1');
    // (a) s1 leads and gets x (index 2) onto s2 only.
    for (const id of ['s3', 's4', 's5']) net.cut('s1', id);
    net.core('s1').propose(bytes('x'));
    net.stabilize();
    expect(net.node('s2').storage.lastIndex()).toBe(2);
    // (b) s1 crashes; s5 wins with s3 and s4 and appends an entry of its term only locally.
    net.recover();
    net.isolate('s1');
    net.hook = (m) => !(m.from === 's5' && m.type === MessageType.App);
    electUntilLeader('s5');
    // (c) s5 crashes; s1 restarts and leads again; x reaches s3 and s4, but s1's own-term
    // entries are held back, so x sits on a majority without an entry of s1's term.
    net.recover();
    net.isolate('s5');
    net.restart('s1');
    net.hook = (m) =>
      m.type === MessageType.App && m.from === 's1' ? { ...m, entries: m.entries.filter((e) => e.term !== m.term) } : true;
    electUntilLeader('s1');
    net.tickAll(2);
    for (const id of ['s1', 's2', 's3', 's4']) expect(net.node(id).storage.term(2)).toBe(1);
    expect(net.core('s1').status().commit).toBe(1);
    // (d) s1 crashes; s5 (its last term is higher) wins and overwrites x everywhere.
    net.hook = undefined;
    net.recover();
    net.isolate('s1');
    net.restart('s5');
    electUntilLeader('s5');
    net.propose('s5', 'z');
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(net.appliedData(id)).toEqual(['z']);
      expect(net.node(id).storage.term(2)).not.toBe(1);
    }
  });
});

describe('§5.5 follower and candidate crashes', () => {
  it('AppendEntries is idempotent: a duplicate leaves the log unchanged and is acknowledged again', () => {
    const s = solo('a', peers, { tunables: plain });
    const app = msg({ type: MessageType.App, to: 'a', from: 'b', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 1)] });
    s.core.step(app);
    s.drain();
    s.core.step(app);
    const resps = ofType(s.drain(), MessageType.AppResp);
    expect(resps.map((m) => [m.reject, m.index])).toEqual([[false, 2]]);
    expect(s.storage.lastIndex()).toBe(2);
    // An older, shorter App does not truncate entries that match.
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1)] }));
    s.drain();
    expect(s.storage.lastIndex()).toBe(2);
  });

  it('a duplicated vote is counted once', () => {
    const s = solo('a', ['a', 'b', 'c', 'd', 'e'], { tunables: plain });
    s.core.campaign();
    s.drain();
    s.core.step(msg({ type: MessageType.VoteResp, to: 'a', from: 'b', term: 1 }));
    s.core.step(msg({ type: MessageType.VoteResp, to: 'a', from: 'b', term: 1 }));
    s.drain();
    expect(s.core.status().role).toBe('candidate');
  });

  it('a vote request repeated by the candidate we voted for is granted again', () => {
    const s = solo('a', peers, { tunables: plain });
    const vote = msg({ type: MessageType.Vote, to: 'a', from: 'b', term: 1 });
    s.core.step(vote);
    s.core.step(vote);
    expect(ofType(s.drain(), MessageType.VoteResp).map((m) => m.reject)).toEqual([false, false]);
  });

  it('the leader retries until a follower that missed entries catches up', () => {
    const net = new Network(peers);
    net.elect('a');
    net.drop('a', 'c', 1);
    for (const d of ['x', 'y']) net.propose('a', d);
    expect(net.appliedData('c')).toEqual([]);
    net.recover();
    net.tickAll(3);
    expect(net.appliedData('c')).toEqual(['x', 'y']);
  });

  it('a restarted follower keeps its term, vote and log, and replays committed entries', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    const before = net.core('b').status();
    net.restart('b');
    const after = net.core('b').status();
    expect([after.term, after.vote, after.commit]).toEqual([before.term, before.vote, before.commit]);
    net.processAll();
    expect(net.appliedData('b')).toEqual(['x']);
    net.propose('a', 'y');
    expect(net.appliedData('b')).toEqual(['x', 'y']);
  });
});
