import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTsswarmError, type TsswarmError } from '../../../../src/errors/index.js';
import { Cluster, text, until } from './cluster-harness.js';

let c: Cluster;
beforeEach(async () => {
  c = new Cluster();
  await c.init();
  for (const id of ['n1', 'n2', 'n3']) await c.addMember(id);
  for (const id of ['n1', 'n2', 'n3']) await c.start(id, { bootstrap: ['n1', 'n2', 'n3'] });
});
afterEach(async () => {
  await c.destroy();
});

async function rejection(p: Promise<unknown>): Promise<TsswarmError> {
  try {
    await p;
  } catch (err) {
    if (isTsswarmError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('RaftNode: three members in one process on loopback', () => {
  it('commits a proposal, applies it on every member, and resolves on the leader once applied', async () => {
    const leader = await c.leader();
    const res = await leader.propose(text('a'));
    expect(res.index).toBeGreaterThan(1);
    expect(c.members.get(leader.id)!.sm.items).toEqual(['a']);
    await leader.propose(text('b'));
    await until(() => [...c.members.values()].every((m) => m.sm.items.join() === 'a,b'), 'all apply a,b');
    expect(leader.status().members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('rejects a write on a follower with RAFT_NOT_LEADER naming the leader and its address', async () => {
    const leader = await c.leader();
    const follower = c.running().find((n) => n !== leader)!;
    const err = await rejection(follower.propose(text('x')));
    expect(err.code).toBe('RAFT_NOT_LEADER');
    expect(err.details.leaderId).toBe(leader.id);
    expect(err.details.leaderAddr).toBe(c.members.get(leader.id)!.addr);
  });

  it('forwards a write from a follower to the leader when asked, and applies it locally before resolving', async () => {
    const leader = await c.leader();
    const follower = c.running().find((n) => n !== leader)!;
    const results = await Promise.all([1, 2, 3].map((i) => follower.propose(text(`fwd${i}`), { forward: true })));
    expect(new Set(results.map((r) => r.index)).size).toBe(3);
    expect(c.members.get(follower.id)!.sm.items).toEqual(['fwd1', 'fwd2', 'fwd3']);
    expect(c.members.get(leader.id)!.sm.items).toEqual(['fwd1', 'fwd2', 'fwd3']);
  });

  it('fails writes with RAFT_TIMEOUT or RAFT_NO_QUORUM once a majority is stopped', async () => {
    const leader = await c.leader();
    await leader.propose(text('before'));
    for (const n of c.running()) if (n !== leader) await c.stop(n.id);
    const pending = rejection(leader.propose(text('lost'), { timeoutMs: 800 }));
    expect(['RAFT_TIMEOUT', 'RAFT_NO_QUORUM']).toContain((await pending).code);
    // Check-quorum makes the lone leader step down; with no leader for an election timeout,
    // new writes are refused with RAFT_NO_QUORUM straight away.
    await until(() => leader.status().role !== 'leader', 'leader steps down');
    const deadline = Date.now() + 15_000;
    let code = '';
    while (code !== 'RAFT_NO_QUORUM' && Date.now() < deadline) {
      code = (await rejection(leader.propose(text('x'), { timeoutMs: 200 }))).code;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBe('RAFT_NO_QUORUM');
  });

  it('restarts a member from disk with its identity and state, and it catches up', async () => {
    const leader = await c.leader();
    for (let i = 0; i < 20; i++) await leader.propose(text(`v${i}`));
    const victim = c.running().find((n) => n !== leader)!.id;
    await until(() => c.members.get(victim)!.sm.items.length === 20, 'victim applied 20');
    await c.stop(victim);
    for (let i = 20; i < 30; i++) await leader.propose(text(`v${i}`));
    const restarted = await c.start(victim, { bootstrap: ['n1', 'n2', 'n3'] });
    await until(() => c.members.get(victim)!.sm.items.length === 30, 'restarted member applied 30');
    expect(c.members.get(victim)!.sm.items).toEqual(c.members.get(leader.id)!.sm.items);
    expect(restarted.status().term).toBeGreaterThanOrEqual(1);
  });

  it('serves a linearizable read on a follower via readIndex', async () => {
    const leader = await c.leader();
    const follower = c.running().find((n) => n !== leader)!;
    const { index } = await leader.propose(text('w'));
    const readAt = await follower.readIndex();
    expect(readAt).toBeGreaterThanOrEqual(index);
    expect(follower.status().applied).toBeGreaterThanOrEqual(index);
    expect(c.members.get(follower.id)!.sm.items).toContain('w');
  });

  it('transfers leadership to a chosen member', async () => {
    const leader = await c.leader();
    const target = c.running().find((n) => n !== leader)!;
    await leader.transferLeadership(target.id);
    expect((await c.leader()).id).toBe(target.id);
    await target.propose(text('after transfer'));
    const err = await rejection(leader.transferLeadership('nobody'));
    expect(err.code).toBe('RAFT_NOT_LEADER');
  });
});
