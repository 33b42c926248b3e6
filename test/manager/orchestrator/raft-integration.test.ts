import { afterEach, describe, expect, it } from 'vitest';
import { TaskAllocator } from '../../../src/manager/allocator/task-allocator.js';
import { Orchestrator, ReconcileLoop } from '../../../src/manager/orchestrator/index.js';
import { Scheduler } from '../../../src/manager/scheduler/index.js';
import type { MemoryStore } from '../../../src/manager/store/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { StoreCluster, type StoreMember } from '../store/raft-store-harness.js';
import { until } from '../../support/wait.js';
import { playAgents } from './harness.js';

interface Runners {
  stop(): Promise<void>;
}

function leaderRunners(store: MemoryStore): Runners {
  const parts = [new Orchestrator({ store }), new TaskAllocator({ store }), new Scheduler({ store })];
  for (const p of parts) p.start();
  return { stop: async () => void (await Promise.all(parts.map((p) => p.stop()))) };
}

/** The agents, writing from a follower (so through Raft forwarding, racing the leader's writes). */
function agentsOn(store: MemoryStore): ReconcileLoop {
  const loop = new ReconcileLoop({
    name: 'raft-it-agents', store, clock: systemClock, wallClock: Date.now, kinds: ['task', 'node'], retryDelayMs: 50,
    pass: (tx, now) => {
      playAgents(tx, now);
      return {};
    },
  });
  loop.start();
  return loop;
}

const cluster = new StoreCluster();
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  await cluster.destroy();
});

const runningOf = (m: StoreMember, serviceId: string): number =>
  m.store.view((tx) => tx.tasksByService(serviceId).filter((t) => t.desiredState === 'RUNNING' && t.status.state === 'RUNNING').length);

describe('the leader\'s runners over a 3-manager Raft store', () => {
  it('run 100 replicas, survive a leader change, and scale without duplicate slots', async () => {
    await cluster.init(['ri-a', 'ri-b', 'ri-c']);
    for (const id of ['ri-a', 'ri-b', 'ri-c']) await cluster.start(id);
    const leader = await cluster.leader();
    const follower = cluster.running().find((m) => m.id !== leader.id)!;
    await leader.store.update((tx) => {
      for (const id of ['rn1', 'rn2', 'rn3']) {
        tx.create('node', { id, role: 'WORKER', spec: { availability: 'ACTIVE', annotations: { name: '' } }, status: { state: 'READY', addr: '127.0.0.1' } });
      }
    });
    const runners = leaderRunners(leader.store);
    stops.push(() => runners.stop());
    const agents = agentsOn(follower.store);
    stops.push(() => agents.stop());

    const t0 = performance.now();
    await leader.store.update((tx) => tx.create('service', { id: 'rs1', spec: { annotations: { name: 'web' }, task: { image: 'sleep' }, replicated: { replicas: 100 } } }));
    await until(() => runningOf(leader, 'rs1') === 100, '100 running', 60_000);
    console.log(`100 replicas NEW -> RUNNING over Raft (3 managers, fsync) in ${(performance.now() - t0).toFixed(0)} ms`);

    // Leader change: the old leader's runners stop with it; the new leader's start from the store.
    await runners.stop();
    await cluster.stop(leader.id);
    const next = await cluster.leader();
    const nextRunners = leaderRunners(next.store);
    stops.push(() => nextRunners.stop());
    await next.store.update((tx) => {
      const s = tx.get('service', 'rs1')!;
      tx.update('service', { ...s, spec: { ...s.spec, replicated: { replicas: 40 } } });
    });
    await until(() => next.store.view((tx) => tx.tasksByService('rs1').length) === 40 && runningOf(next, 'rs1') === 40, '40 running, others removed', 60_000);
    const slots = next.store.view((tx) => tx.tasksByService('rs1').map((t) => t.slot)).sort((a, b) => a - b);
    expect(slots).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, 120_000);
});
