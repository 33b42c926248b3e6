// Raft paper §7 log compaction (InstallSnapshot) and §8 client interaction (read-only queries
// through ReadIndex).
import { describe, expect, it } from 'vitest';
import { EntryType, MessageType } from '../../../../src/manager/raft/types.js';
import type { Snapshot } from '../../../../src/manager/raft/types.js';
import { Network, bytes, str } from './helpers/network.js';
import type { TestNode } from './helpers/network.js';
import { makeLeader, msg, ofType, solo } from './helpers/solo.js';

const peers = ['a', 'b', 'c'];

/** The driver's job: snapshot the state machine at its applied index and compact the log. */
function snapshotAndCompact(n: TestNode): Snapshot {
  const { applied, confState } = n.core.status();
  const data = bytes(n.applied.map((e) => str(e.data)).join(','));
  const snap = n.storage.createSnapshot(applied, confState, data);
  n.storage.compact(applied);
  return snap;
}

describe('§7 snapshots / InstallSnapshot', () => {
  it('leader sends a snapshot to a follower that needs compacted entries; it restores and catches up', () => {
    const net = new Network(peers);
    net.elect('a');
    net.isolate('c');
    for (const d of ['x', 'y', 'z']) net.propose('a', d);
    const snap = snapshotAndCompact(net.node('a'));
    net.recover();
    net.tickAll(2);
    const c = net.node('c');
    expect(c.snapshotsApplied.map((s) => s.metadata.index)).toEqual([snap.metadata.index]);
    expect(str(c.snapshotsApplied[0]!.data)).toBe('x,y,z');
    expect(net.sent(MessageType.Snap, { to: 'c' }).length).toBe(1);
    // Replication continues from the log after the snapshot.
    net.propose('a', 'w');
    expect(net.appliedData('c')).toEqual(['w']);
    expect(net.core('a').status().progress!.get('c')!.state).toBe('replicate');
    expect(c.core.status().applied).toBe(net.core('a').status().applied);
  });

  it('the Ready carries the snapshot (to persist and apply before any later entry) and mustSync', () => {
    const s = solo('c', peers);
    const snap: Snapshot = { metadata: { index: 10, term: 2, confState: { voters: peers, learners: [] } }, data: bytes('state') };
    s.core.step(msg({ type: MessageType.Snap, to: 'c', from: 'a', term: 2, snapshot: snap }));
    const rd = s.core.ready();
    expect(rd.snapshot).toBe(snap);
    expect(rd.mustSync).toBe(true);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 2, commit: 10 });
    expect(ofType(rd.messages, MessageType.AppResp).map((m) => [m.index, m.reject])).toEqual([[10, false]]);
    s.storage.applySnapshot(snap);
    s.core.advance(rd);
    expect(s.core.status()).toMatchObject({ applied: 10, commit: 10, confState: { voters: peers, learners: [] } });
    expect(s.core.hasReady()).toBe(false);
  });

  it('a follower whose log already contains the snapshot keeps its log and only advances commit', () => {
    const s = solo('c', peers, { terms: [1, 1, 1, 1], term: 1 });
    const snap: Snapshot = { metadata: { index: 3, term: 1, confState: { voters: peers, learners: [] } }, data: bytes('s') };
    s.core.step(msg({ type: MessageType.Snap, to: 'c', from: 'a', term: 1, snapshot: snap }));
    const out = s.drain();
    expect(s.readies.some((r) => r.snapshot !== undefined)).toBe(false);
    expect(s.storage.lastIndex()).toBe(4);
    expect(s.core.status().commit).toBe(3);
    expect(ofType(out, MessageType.AppResp).map((m) => m.index)).toEqual([3]);
  });

  it('a stale snapshot (at or below commit) is ignored', () => {
    const s = solo('c', peers);
    s.core.step(msg({ type: MessageType.App, to: 'c', from: 'a', term: 1, entries: [1, 2, 3].map((i) => ({ index: i, term: 1, type: EntryType.Normal, data: bytes('e') })), commit: 3 }));
    s.drain();
    const snap: Snapshot = { metadata: { index: 2, term: 1, confState: { voters: peers, learners: [] } }, data: bytes('s') };
    s.core.step(msg({ type: MessageType.Snap, to: 'c', from: 'a', term: 1, snapshot: snap }));
    const out = s.drain();
    expect(s.readies.some((r) => r.snapshot !== undefined)).toBe(false);
    expect(ofType(out, MessageType.AppResp).map((m) => m.index)).toEqual([3]);
  });

  it('reportSnapshot moves the progress on: failure back to probe, success to probe after the snapshot', () => {
    for (const ok of [false, true]) {
      const net = new Network(peers);
      net.elect('a');
      net.isolate('c');
      net.propose('a', 'x');
      snapshotAndCompact(net.node('a'));
      net.recover();
      net.ignore(MessageType.Snap); // the transport is "still sending" it
      net.tickAll(2);
      const pr = () => net.core('a').status().progress!.get('c')!;
      expect(pr().state).toBe('snapshot');
      net.core('a').reportSnapshot('c', ok);
      expect(pr().state).toBe('probe');
      expect(pr().next).toBe(ok ? net.node('a').storage.snapshot().metadata.index + 1 : pr().match + 1);
    }
  });

  it('a joining learner starts from the bootstrap snapshot and learns the configuration', () => {
    const net = new Network(['a'], { joiners: ['b'], bootstrap: true });
    net.elect('a');
    net.core('a').proposeConfChange({ type: 'addLearner', nodeId: 'b' });
    net.stabilize();
    net.tickAll(2);
    expect(net.node('b').snapshotsApplied.length).toBe(1);
    expect(net.core('b').status().confState).toEqual({ voters: ['a'], learners: ['b'] });
  });
});

describe('§8 read-only queries (ReadIndex)', () => {
  const ctx = bytes('read-1');

  it('the leader records its commit index and answers only after a heartbeat round to a quorum', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    const commit = net.core('a').status().commit;
    net.core('a').readIndex(ctx);
    net.processAll(); // heartbeats are queued, not yet delivered
    expect(net.node('a').readStates).toEqual([]);
    net.stabilize();
    expect(net.node('a').readStates).toEqual([{ index: commit, context: ctx }]);
  });

  it('a leader cut off from the quorum never answers (it may already be deposed)', () => {
    const net = new Network(peers);
    net.elect('a');
    net.isolate('a');
    net.core('a').readIndex(ctx);
    net.stabilize();
    net.tick('a', 3);
    net.stabilize();
    expect(net.node('a').readStates).toEqual([]);
  });

  it('one ack beyond the leader is enough in a 3-node cluster', () => {
    const net = new Network(peers);
    net.elect('a');
    net.isolate('c');
    net.core('a').readIndex(ctx);
    net.stabilize();
    expect(net.node('a').readStates.length).toBe(1);
  });

  it('a new leader defers reads until it has committed an entry of its term', () => {
    const s = solo('a', peers, { tunables: { preVote: false, checkQuorum: false } });
    makeLeader(s, ['b']);
    s.core.readIndex(ctx);
    expect(ofType(s.drain(), MessageType.Heartbeat)).toEqual([]);
    s.core.step(msg({ type: MessageType.AppResp, to: 'a', from: 'b', term: 1, index: 1 }));
    const beats = ofType(s.drain(), MessageType.Heartbeat);
    expect(beats.map((m) => m.to)).toEqual(['b', 'c']);
    s.core.step(msg({ type: MessageType.HeartbeatResp, to: 'a', from: 'c', term: 1, context: ctx }));
    s.drain();
    expect(s.readies.flatMap((r) => r.readStates)).toEqual([{ index: 1, context: ctx }]);
  });

  it('a read on a follower is forwarded to the leader and answered with the leader commit index', () => {
    const net = new Network(peers);
    net.elect('a');
    net.propose('a', 'x');
    net.core('b').readIndex(ctx);
    net.stabilize();
    expect(net.node('b').readStates).toEqual([{ index: net.core('a').status().commit, context: ctx }]);
    expect(net.sent(MessageType.ReadIndex, { from: 'b', to: 'a' }).length).toBe(1);
    expect(net.sent(MessageType.ReadIndexResp, { from: 'a', to: 'b' }).length).toBe(1);
  });

  it('a read on a follower without a leader is dropped', () => {
    const s = solo('b', peers);
    s.core.readIndex(ctx);
    expect(s.drain()).toEqual([]);
  });

  it('a single-voter leader answers at once', () => {
    const net = new Network(['a']);
    net.elect('a');
    net.core('a').readIndex(ctx);
    net.processAll();
    expect(net.node('a').readStates).toEqual([{ index: 1, context: ctx }]);
  });
});
