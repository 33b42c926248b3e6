import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, serviceInput, taskInput } from './helpers.js';
import { StoreCluster, until, type StoreMember } from './raft-store-harness.js';

let c: StoreCluster;
beforeEach(async () => {
  c = new StoreCluster();
  await c.init(['n1', 'n2', 'n3']);
  for (const id of ['n1', 'n2', 'n3']) await c.start(id);
});
afterEach(async () => {
  await c.destroy();
});

const snapshotOf = (m: StoreMember): string => Buffer.from(m.store.snapshot()).toString('hex');

/** Waits until every running member's store has applied up to `index`. */
async function allApplied(index: number): Promise<void> {
  await until(() => c.running().every((m) => m.store.appliedIndex >= index), `every store at index ${index}`);
}

describe('MemoryStore replicated by three RaftNodes on 127.0.0.1', () => {
  it('a write on a follower is forwarded, committed and visible on all three with the same meta.version', async () => {
    const leader = await c.leader();
    const follower = c.running().find((m) => m !== leader)!;
    await follower.store.update((tx) => tx.create('service', serviceInput('s1', 'web', 3)));
    // Resolved = applied on the follower itself: it reads its own write.
    const version = follower.store.view((tx) => tx.get('service', 's1'))!.meta.version;
    expect(version).toBeGreaterThan(1);
    await allApplied(version);
    for (const m of c.running()) {
      const s = m.store.view((tx) => tx.get('service', 's1'))!;
      expect(s.meta.version).toBe(version);
      expect(s.spec.replicated?.replicas).toBe(3);
    }
    // A conflicting write from another follower fails with the store's code, everywhere a no-op.
    const other = c.running().find((m) => m !== leader && m !== follower)!;
    await allApplied(version);
    expect(await codeOf(other.store.update((tx) => tx.create('service', serviceInput('s2', 'WEB'))))).toBe('STORE_NAME_CONFLICT');
    // A linearizable read on a follower sees a write made through the leader.
    await leader.store.update((tx) => tx.create('network', { id: 'net1', spec: { annotations: { name: 'backend' } } }));
    expect(await other.store.viewLinearizable((tx) => tx.getByName('network', 'backend')?.id)).toBe('net1');
  });

  it('keeps taking writes after the leader stops, and a restarted member catches up from snapshot + log', async () => {
    const first = await c.leader();
    for (let i = 0; i < 10; i++) await first.store.update((tx) => tx.create('task', taskInput(`a${i}`, 's1', i + 1)));
    await allApplied(first.store.appliedIndex);
    const watcher = c.running().find((m) => m !== first)!;
    const events = watcher.store.watch({ kinds: ['task'] });

    await c.stop(first.id);
    const second = await c.leader();
    expect(second.id).not.toBe(first.id);
    // Enough writes to pass the snapshot interval (20) several times while `first` is down.
    const survivors = c.running();
    for (let i = 0; i < 60; i++) {
      const via = survivors[i % survivors.length]!;
      await via.store.update((tx) => tx.create('task', taskInput(`b${i}`, 's1', 100 + i)));
    }
    const last = second.store.appliedIndex;

    const restarted = await c.start(first.id);
    // Its own disk gives it the bootstrap snapshot and its WAL; the log it missed was
    // compacted on the others (snapshot every 20, 5 kept), so the leader sends a snapshot.
    expect(restarted.store.restores).toBe(1);
    await allApplied(last);
    expect(restarted.store.restores).toBeGreaterThanOrEqual(2);
    expect(restarted.store.view((tx) => tx.list('task').length)).toBe(70);
    const expected = snapshotOf(second);
    for (const m of c.running()) expect(snapshotOf(m)).toBe(expected);

    // The follower's watcher saw the 60 later creates, in commit order, once each.
    const seen: string[] = [];
    for await (const e of events) {
      seen.push(e.object.id);
      if (seen.length === 60) break;
    }
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `b${i}`));
  });

  it('surfaces the Raft driver\'s errors when there is no quorum', async () => {
    const leader = await c.leader();
    for (const m of c.running()) if (m !== leader) await c.stop(m.id);
    const code = await codeOf(leader.store.update((tx) => tx.create('task', taskInput('lost', 's1', 1))));
    expect(['RAFT_TIMEOUT', 'RAFT_NO_QUORUM']).toContain(code);
    await until(() => leader.node!.status().role !== 'leader', 'the lone leader steps down');
    // Once leaderless for an election timeout, writes are refused at once with RAFT_NO_QUORUM.
    const deadline = Date.now() + 20_000;
    let last = code;
    while (last !== 'RAFT_NO_QUORUM' && Date.now() < deadline) {
      last = await codeOf(leader.store.update((tx) => tx.create('task', taskInput('x', 's1', 1))));
      expect(['RAFT_TIMEOUT', 'RAFT_NO_QUORUM', 'RAFT_NOT_LEADER']).toContain(last);
    }
    expect(last).toBe('RAFT_NO_QUORUM');
  });
});
