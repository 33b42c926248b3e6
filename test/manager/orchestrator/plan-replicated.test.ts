import { describe, expect, it } from 'vitest';
import { LABELS } from '../../../src/manager/orchestrator/index.js';
import { makeNode, makeService, makeSpec } from './fixtures.js';
import { PlanWorld } from './plan-world.js';

function world(replicas: number, restart?: { condition: 'ANY' | 'ON_FAILURE' | 'NONE'; delayMs?: number; maxAttempts?: number; windowMs?: number }): PlanWorld {
  const w = new PlanWorld();
  w.nodes = ['n1', 'n2', 'n3'].map((id) => makeNode(id));
  const spec = makeSpec('web', { replicas, ...(restart === undefined ? {} : { restart: { delayMs: 5_000, maxAttempts: 0, windowMs: 0, ...restart } }) });
  w.services = [makeService('svc', spec)];
  return w;
}

const slotsOf = (w: PlanWorld): number[] => w.live().map((t) => t.slot).sort((a, b) => a - b);

describe('replicated orchestration (pure)', () => {
  it('creates one NEW task per slot, named and versioned as Docker, and then nothing more', () => {
    const w = world(3);
    expect(w.step().created).toBe(3);
    expect(slotsOf(w)).toEqual([1, 2, 3]);
    const t = w.tasks.find((x) => x.slot === 2)!;
    expect(t.annotations?.name).toBe(`web.2.${t.id}`);
    expect(t.status.state).toBe('NEW');
    expect(t.desiredState).toBe('RUNNING');
    expect(t.specVersion).toBe(10);
    expect(t.spec).toEqual(w.services[0]!.spec.task);
    expect(t.serviceAnnotations?.name).toBe('web');
    expect(w.step()).toEqual({ created: 0, updated: 0, deleted: 0 });
  });

  it('scales up with new slots and down by removing the highest slots (desired REMOVE), then deletes them', () => {
    const w = world(3);
    w.settle();
    w.run();
    w.services = [{ ...w.services[0]!, spec: { ...w.services[0]!.spec, replicated: { replicas: 5 } } }];
    w.settle();
    expect(slotsOf(w)).toEqual([1, 2, 3, 4, 5]);
    w.run();
    w.services = [{ ...w.services[0]!, spec: { ...w.services[0]!.spec, replicated: { replicas: 2 } } }];
    w.settle();
    expect(slotsOf(w)).toEqual([1, 2]);
    expect(w.tasks.filter((t) => t.slot > 2).every((t) => t.desiredState === 'REMOVE')).toBe(true);
    w.stopShutdown();
    w.settle();
    expect(w.tasks.map((t) => t.slot).sort()).toEqual([1, 2]);
  });

  it('restarts a failed task after the restart delay, in the same slot', () => {
    const w = world(2);
    w.settle();
    w.run();
    const victim = w.tasks.find((t) => t.slot === 1)!;
    w.setTask(victim.id, { state: 'FAILED', err: 'exit 1' });
    w.settle();
    const marked = w.tasks.find((t) => t.id === victim.id)!;
    expect(marked.desiredState).toBe('SHUTDOWN');
    expect(marked.annotations?.labels[LABELS.replaceAfter]).toBe(String(w.nowMs + 5_000));
    expect(w.wakeAtMs).toBe(w.nowMs + 5_000);
    expect(slotsOf(w)).toEqual([2]);
    w.nowMs += 4_999;
    w.settle();
    expect(slotsOf(w)).toEqual([2]);
    w.nowMs += 1;
    w.settle();
    expect(slotsOf(w)).toEqual([1, 2]);
    expect(w.tasks.find((t) => t.id === victim.id)!.annotations?.labels[LABELS.replaceAfter]).toBeUndefined();
  });

  it('on-failure does not restart a clean exit; none restarts nothing; both keep the slot', () => {
    for (const [condition, state, restarted] of [['ON_FAILURE', 'COMPLETE', false], ['ON_FAILURE', 'FAILED', true], ['NONE', 'FAILED', false], ['ANY', 'COMPLETE', true]] as const) {
      const w = world(1, { condition, delayMs: 0 });
      w.settle();
      w.run();
      w.setTask(w.tasks[0]!.id, { state });
      w.settle();
      expect(w.tasks.length, `${condition} ${state}`).toBe(restarted ? 2 : 1);
      expect(w.tasks[0]!.desiredState).toBe(restarted ? 'SHUTDOWN' : 'RUNNING');
    }
  });

  it('stops restarting after max attempts (within the window)', () => {
    const w = world(1, { condition: 'ANY', delayMs: 0, maxAttempts: 2, windowMs: 0 });
    w.settle();
    for (let i = 0; i < 3; i++) {
      w.run();
      w.setTask(w.live()[0]!.id, { state: 'FAILED' });
      w.nowMs += 1_000;
      w.settle();
    }
    // 1 original + 2 restarts; the third failure stays.
    expect(w.tasks.length).toBe(3);
    expect(w.live().length).toBe(1);
    expect(w.live()[0]!.status.state).toBe('FAILED');

    const windowed = world(1, { condition: 'ANY', delayMs: 0, maxAttempts: 1, windowMs: 10_000 });
    windowed.settle();
    for (let i = 0; i < 3; i++) {
      windowed.run();
      windowed.setTask(windowed.live()[0]!.id, { state: 'FAILED' });
      windowed.nowMs += 20_000;
      windowed.settle();
    }
    // Each failure falls outside the window of the one before: always restarted.
    expect(windowed.live()[0]!.status.state).not.toBe('FAILED');
  });

  it('replaces tasks of a DOWN node and of a drained node at once (no restart delay: the node was already given 3 heartbeats)', () => {
    const w = world(3);
    w.settle();
    w.run();
    const onN1 = w.tasks.filter((t) => t.nodeId === 'n1').map((t) => t.id);
    w.nodes = w.nodes.map((n) => (n.id === 'n1' ? makeNode('n1', { state: 'DOWN' }) : n));
    w.settle();
    expect(w.live().length).toBe(3);
    expect(w.live().every((t) => !onN1.includes(t.id))).toBe(true);

    const d = world(3);
    d.settle();
    d.run();
    d.nodes = d.nodes.map((n) => (n.id === 'n2' ? makeNode('n2', { availability: 'DRAIN' }) : n));
    d.settle();
    expect(d.live().length).toBe(3);
    expect(d.tasks.filter((t) => t.nodeId === 'n2').every((t) => t.desiredState === 'SHUTDOWN')).toBe(true);
  });

  it('moves a task whose node no longer meets its constraints', () => {
    const w = new PlanWorld();
    w.nodes = [makeNode('n1', { labels: { zone: 'eu' } }), makeNode('n2', { labels: { zone: 'eu' } })];
    w.services = [makeService('svc', makeSpec('web', { replicas: 1, placement: { constraints: ['node.labels.zone==eu'], preferences: [], maxReplicas: 0, platforms: [] } }))];
    w.settle();
    w.run();
    const first = w.live()[0]!;
    w.nodes = w.nodes.map((n) => (n.id === first.nodeId ? makeNode(n.id, { labels: { zone: 'us' } }) : n));
    w.settle();
    expect(w.tasks.find((t) => t.id === first.id)!.desiredState).toBe('SHUTDOWN');
    expect(w.live().length).toBe(1);
    expect(w.live()[0]!.id).not.toBe(first.id);
  });

  it('keeps 5 tasks per slot (or the cluster limit), deleting the oldest finished', () => {
    const w = world(1, { condition: 'ANY', delayMs: 0 });
    w.settle();
    for (let i = 0; i < 9; i++) {
      w.run();
      w.setTask(w.live()[0]!.id, { state: 'FAILED' });
      w.nowMs += 1_000;
      w.settle();
    }
    expect(w.tasks.length).toBe(5);
    expect(w.live().length).toBe(1);
    const created = w.tasks.map((t) => t.meta.createdAtMs).sort((a, b) => a - b);
    expect(created[0]).toBe(w.nowMs - 4_000);

    w.clusters = [{ id: 'c', meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 }, spec: { annotations: { name: 'default', labels: {} }, dispatcherHeartbeatPeriodMs: 0, nodeCertExpiryMs: 0, taskHistoryRetentionLimit: 2, snapshotInterval: 0, logEntriesForSlowFollowers: 0, autolockManagers: false }, networkBootstrapKeys: [], encryptionKeyLamportClock: 0, defaultAddressPools: [], subnetSize: 0, dataPathPort: 0, unlockKey: '' }];
    w.settle();
    expect(w.tasks.length).toBe(2);
  });

  it('service rm: tasks get desired REMOVE, are deleted once stopped, then the service', () => {
    const w = world(2);
    w.settle();
    w.run();
    w.services = [{ ...w.services[0]!, pendingDelete: true }];
    w.settle();
    expect(w.tasks.every((t) => t.desiredState === 'REMOVE')).toBe(true);
    expect(w.services.length).toBe(1);
    w.stopShutdown();
    w.settle();
    expect(w.tasks).toEqual([]);
    expect(w.services).toEqual([]);
  });

  it('deletes tasks that never reached a node as soon as they are not wanted', () => {
    const w = world(3);
    w.settle();
    w.services = [{ ...w.services[0]!, spec: { ...w.services[0]!.spec, replicated: { replicas: 1 } } }];
    w.settle();
    expect(w.tasks.map((t) => t.slot)).toEqual([1]);
  });
});
