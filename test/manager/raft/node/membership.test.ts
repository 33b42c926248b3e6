import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, failingDiskLog, text, until } from './cluster-harness.js';

let c: Cluster;
beforeEach(async () => {
  c = new Cluster();
  await c.init();
});
afterEach(async () => {
  await c.destroy();
});

// Snapshot every 20 entries, keeping 5 behind it, so a short test exercises compaction.
const smallSnapshots = { snapshotInterval: 20, snapshotKeepEntries: 5 };

describe('RaftNode: snapshots and membership', () => {
  it('brings a lagging member up to date with a snapshot once the log it needs is compacted', async () => {
    for (const id of ['n1', 'n2', 'n3']) await c.addMember(id);
    for (const id of ['n1', 'n2', 'n3']) await c.start(id, { bootstrap: ['n1', 'n2', 'n3'], config: smallSnapshots });
    const leader = await c.leader();
    const lagging = c.running().find((n) => n !== leader)!.id;
    await c.stop(lagging);
    for (let i = 0; i < 100; i++) await leader.propose(text(`e${i}`));
    await c.start(lagging, { bootstrap: ['n1', 'n2', 'n3'], config: smallSnapshots });
    await until(() => c.members.get(lagging)!.sm.items.length === 100, 'lagging member has all 100');
    expect(c.members.get(lagging)!.sm.items).toEqual(c.members.get(leader.id)!.sm.items);
    // And it restarts from its own snapshot + WAL afterwards.
    await c.stop(lagging);
    await c.start(lagging, { config: smallSnapshots });
    await until(() => c.members.get(lagging)!.sm.items.length === 100, 'restarted from its snapshot');
  });

  it('adds a member as a learner, promotes it once caught up, then removes it', async () => {
    for (const id of ['n1', 'n2', 'n3', 'n4']) await c.addMember(id);
    for (const id of ['n1', 'n2', 'n3']) await c.start(id, { bootstrap: ['n1', 'n2', 'n3'], config: smallSnapshots });
    const leader = await c.leader();
    for (let i = 0; i < 50; i++) await leader.propose(text(`e${i}`));
    const n4 = await c.start('n4', { config: smallSnapshots });
    await leader.addMember('n4', c.members.get('n4')!.addr, { timeoutMs: 20_000 });
    const members = leader.status().members;
    expect(members.find((m) => m.id === 'n4')).toEqual({ id: 'n4', addr: c.members.get('n4')!.addr, learner: false });
    await leader.propose(text('with n4'));
    await until(() => c.members.get('n4')!.sm.items.length === 51, 'n4 applied everything');
    expect(c.members.get('n4')!.sm.items).toEqual(c.members.get(leader.id)!.sm.items);
    await until(() => n4.status().members.length === 4, 'n4 knows all members');

    await leader.removeMember('n4');
    expect(leader.status().members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
    await until(() => n4.status().role === 'stopped', 'removed member stops');
    await leader.propose(text('without n4'));
    await expect(leader.removeMember('n4')).rejects.toMatchObject({ code: 'RAFT_UNKNOWN_MEMBER' });
  });
});

describe('RaftNode: learner promotion', () => {
  it('does not promote a learner that has never answered, so a young one-member group keeps its quorum', async () => {
    for (const id of ['n1', 'n2']) await c.addMember(id);
    await c.start('n1', { bootstrap: ['n1'] });
    const leader = await c.leader();
    // n2 is never started: it cannot acknowledge anything, yet the log is far shorter than the
    // promotion lag, which once made it look caught up.
    await expect(leader.addMember('n2', c.members.get('n2')!.addr, { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'RAFT_TIMEOUT' });
    expect(leader.status().members.find((m) => m.id === 'n2')).toMatchObject({ learner: true });
    // Had n2 been promoted, this write would need n2's vote and fail.
    await leader.propose(text('still writable'));
    expect(leader.status().role).toBe('leader');
  });
});

describe('RaftNode: fatal storage errors', () => {
  it('stops and fails every pending proposal with RAFT_STOPPED when its disk fails', async () => {
    const flags = new Map(['n1', 'n2', 'n3'].map((id) => [id, { fail: false }]));
    for (const id of ['n1', 'n2', 'n3']) await c.addMember(id);
    for (const id of ['n1', 'n2', 'n3']) await c.start(id, { bootstrap: ['n1', 'n2', 'n3'], openLog: failingDiskLog(flags.get(id)!) });
    const leader = await c.leader();
    await leader.propose(text('ok'));
    flags.get(leader.id)!.fail = true;
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => leader.propose(text(`doomed${i}`))));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'RAFT_STOPPED' });
    }
    expect(leader.status().role).toBe('stopped');
    await expect(leader.propose(text('after'))).rejects.toMatchObject({ code: 'RAFT_STOPPED' });
    // The others elect a new leader and carry on.
    const survivors = c.running().filter((n) => n !== leader);
    await until(() => survivors.some((n) => n.status().role === 'leader'), 'a new leader among the survivors');
  });
});
