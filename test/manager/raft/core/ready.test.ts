// The Ready/advance contract of types.ts: what each field carries and when.
import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../../src/manager/raft/types.js';
import { Network, bytes, str } from './helpers/network.js';
import { makeLeader, msg, solo } from './helpers/solo.js';

const peers = ['a', 'b', 'c'];

describe('Ready and advance', () => {
  it('a fresh node has nothing to do until something happens', () => {
    const s = solo('a', peers);
    expect(s.core.hasReady()).toBe(false);
    s.core.tick();
    expect(s.core.hasReady()).toBe(false);
  });

  it('softState appears on a role or leader change, hardState on a term, vote or commit change', () => {
    const s = solo('a', peers, { tunables: { preVote: false } });
    s.core.campaign();
    const rd = s.core.ready();
    expect(rd.softState).toEqual({ leader: '', role: 'candidate' });
    expect(rd.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    expect(rd.mustSync).toBe(true);
    s.core.advance(rd);
    s.core.tick();
    expect(s.core.hasReady()).toBe(false);
  });

  it('a commit-only change does not require fsync', () => {
    const s = solo('a', peers, { tunables: { preVote: false } });
    s.core.step(msg({ type: MessageType.App, to: 'a', from: 'b', term: 1, entries: [{ index: 1, term: 1, type: 0, data: bytes('x') }] }));
    s.drain();
    s.core.step(msg({ type: MessageType.Heartbeat, to: 'a', from: 'b', term: 1, commit: 1 }));
    const rd = s.core.ready();
    expect(rd.hardState?.commit).toBe(1);
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
    expect(rd.committedEntries.map((e) => str(e.data))).toEqual(['x']);
    s.core.advance(rd);
  });

  it('entries proposed between ready() and advance() come in the next Ready, once', () => {
    const s = solo('a', ['a']);
    makeLeader(s, []);
    s.core.propose(bytes('x'));
    const rd1 = s.core.ready();
    s.core.propose(bytes('y'));
    expect(rd1.entries.map((e) => str(e.data))).toEqual(['x']);
    s.storage.append(rd1.entries);
    s.core.advance(rd1);
    const rd2 = s.core.ready();
    expect(rd2.entries.map((e) => str(e.data))).toEqual(['y']);
    s.storage.append(rd2.entries);
    s.core.advance(rd2);
    s.drain();
    const applied = [...rd1.committedEntries, ...rd2.committedEntries, ...s.committed];
    expect(applied.filter((e) => e.data.length > 0).map((e) => str(e.data))).toEqual(['x', 'y']);
  });

  it('asking hasReady() after every proposal does not split the burst into many Apps', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'warm-up'); // followers now in replicate state
    const a = net.core('a');
    for (let i = 0; i < 50; i++) {
      a.propose(bytes(`p${i}`));
      expect(a.hasReady()).toBe(true);
    }
    const rd = a.ready();
    expect(rd.entries.length).toBe(50);
    expect(rd.messages.filter((m) => m.type === MessageType.App).map((m) => [m.to, m.entries.length])).toEqual([
      ['b', 50],
      ['c', 50],
    ]);
    a.advance(rd);
  });

  it('committed entries are handed out only after they were persisted in an earlier Ready', () => {
    const net = new Network(peers);
    net.elect('a');
    for (let i = 0; i < 20; i++) {
      net.core('a').propose(bytes(`p${i}`));
      if (i % 3 === 0) net.stabilize();
    }
    net.stabilize();
    for (const n of net.nodes.values()) {
      const persisted = new Set<number>();
      for (const rd of n.readies) {
        for (const e of rd.committedEntries) expect(persisted.has(e.index)).toBe(true);
        for (const e of rd.entries) persisted.add(e.index);
      }
      expect(n.applied.length).toBe(20);
    }
  });

  it('the same calls with the same seed give the same messages (determinism)', () => {
    const run = (): string[] => {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], { seed: 99 });
      net.drop('a', 'b', 0.3);
      net.tickAll(40);
      const leader = net.leaders()[0]!;
      for (let i = 0; i < 5; i++) net.propose(leader, `v${i}`);
      return net.delivered.map((m) => `${m.type}:${m.from}>${m.to}:${m.term}:${m.index}:${m.entries.length}:${m.commit}`);
    };
    expect(run()).toEqual(run());
  });

  it('status reports progress on the leader only', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    const st = net.core('a').status();
    expect(st).toMatchObject({ id: 'a', role: 'leader', leader: 'a', term: 1, commit: 2, applied: 2, leadTransferee: '' });
    expect([...st.progress!.keys()].sort()).toEqual(peers);
    expect(st.progress!.get('b')).toEqual({ match: 2, next: 3, state: 'replicate', isLearner: false, recentActive: true });
    expect(net.core('b').status().progress).toBeUndefined();
  });
});
