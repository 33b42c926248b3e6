import { describe, expect, it } from 'vitest';
import { rollbackServiceSpec } from '../../../src/manager/orchestrator/index.js';
import type { Service, UpdateConfig } from '../../../src/objects/index.js';
import { makeNode, makeService, makeSpec } from './fixtures.js';
import { PlanWorld } from './plan-world.js';
import { codeOf } from '../../support/errors.js';

describe('global orchestration (pure)', () => {
  it('runs one task per eligible node and follows joins, drains, pauses, constraints and downs', () => {
    const w = new PlanWorld();
    w.nodes = [makeNode('n1'), makeNode('n2'), makeNode('n3', { labels: { skip: 'yes' } })];
    w.services = [makeService('g', makeSpec('agent', { global: true, placement: { constraints: ['node.labels.skip!=yes'], preferences: [], maxReplicas: 0, platforms: [] } }))];
    w.settle();
    const on = (): string[] => w.live().map((t) => t.nodeId).sort();
    expect(on()).toEqual(['n1', 'n2']);
    expect(w.tasks[0]!.slot).toBe(0);
    expect(w.tasks[0]!.annotations?.name).toBe(`agent.${w.tasks[0]!.nodeId}.${w.tasks[0]!.id}`);
    w.run();
    w.nodes.push(makeNode('n4'));
    w.settle();
    expect(on()).toEqual(['n1', 'n2', 'n4']);
    w.nodes = w.nodes.map((n) => (n.id === 'n2' ? makeNode('n2', { availability: 'DRAIN' }) : n.id === 'n4' ? makeNode('n4', { state: 'DOWN' }) : n));
    w.settle();
    expect(on()).toEqual(['n1']);
    // A paused node keeps its task but gets no new one.
    w.nodes = [makeNode('n1', { availability: 'PAUSE' }), makeNode('n2', { availability: 'PAUSE' }), makeNode('n3', { labels: { skip: 'yes' } }), makeNode('n4')];
    w.settle();
    expect(on()).toEqual(['n1', 'n4']);
  });
});

function updating(update: Partial<UpdateConfig>): { w: PlanWorld; svc: () => Service } {
  const w = new PlanWorld();
  w.nodes = ['n1', 'n2', 'n3'].map((id) => makeNode(id));
  const cfg: UpdateConfig = { parallelism: 2, delayMs: 0, failureAction: 'PAUSE', monitorMs: 5_000, maxFailureRatio: 0, order: 'STOP_FIRST', ...update };
  w.services = [makeService('svc', makeSpec('web', { replicas: 6, update: cfg, restart: { condition: 'ANY', delayMs: 5_000, maxAttempts: 0, windowMs: 0 } }))];
  w.settle();
  w.run();
  w.settle();
  const current = w.services[0]!;
  const next = { ...current.spec, task: { ...current.spec.task, image: 'v2' }, rollback: cfg };
  w.services = [{ ...current, spec: next, previousSpec: current.spec }];
  return { w, svc: () => w.services[0]! };
}

describe('rolling update (pure)', () => {
  it('updates 2 slots at a time, stop-first, and completes after the monitor period', () => {
    const { w, svc } = updating({});
    w.settle();
    expect(svc().updateStatus?.state).toBe('UPDATING');
    const v2 = (): number => w.live().filter((t) => t.spec.image === 'v2').length;
    // Two old tasks told to stop; successors wait for them.
    expect(w.tasks.filter((t) => t.desiredState === 'SHUTDOWN').length).toBe(2);
    expect(v2()).toBe(0);
    w.stopShutdown();
    w.settle();
    expect(v2()).toBe(2);
    for (let round = 0; round < 3; round++) {
      w.run();
      w.settle();
      w.stopShutdown();
      w.settle();
    }
    w.run();
    w.settle();
    expect(v2()).toBe(6);
    expect(w.live().length).toBe(6);
    expect(svc().updateStatus?.state).toBe('UPDATING');
    expect(w.wakeAtMs).toBe(w.nowMs + 5_000);
    w.nowMs += 5_000;
    w.settle();
    expect(svc().updateStatus).toMatchObject({ state: 'COMPLETED', message: 'update completed' });
  });

  it('start-first starts the new task beside the old one and stops the old once the new runs', () => {
    const { w } = updating({ parallelism: 1, order: 'START_FIRST' });
    w.settle();
    expect(w.live().length).toBe(7);
    w.run();
    w.settle();
    expect(w.live().length).toBe(7);
    expect(w.live().filter((t) => t.spec.image === 'v2').length).toBe(2);
  });

  it('pauses on a failed new task with Docker\'s message', () => {
    const { w, svc } = updating({});
    w.settle();
    w.stopShutdown();
    w.settle();
    const fresh = w.live().filter((t) => t.spec.image === 'v2');
    w.setTask(fresh[0]!.id, { state: 'FAILED', err: 'exit 1' });
    w.settle();
    expect(svc().updateStatus).toMatchObject({ state: 'PAUSED', message: `update paused due to failure or early termination of task ${fresh[0]!.id}` });
    // Paused: the other old tasks stay on v1.
    w.nowMs += 60_000;
    w.run();
    w.settle();
    expect(w.live().filter((t) => t.spec.image === 'sleep').length).toBe(4);
  });

  it('rolls back on failure with failure action rollback, and completes the rollback', () => {
    const { w, svc } = updating({ failureAction: 'ROLLBACK' });
    w.settle();
    w.stopShutdown();
    w.settle();
    const fresh = w.live().filter((t) => t.spec.image === 'v2');
    w.setTask(fresh[0]!.id, { state: 'FAILED' });
    w.settle();
    expect(svc().updateStatus).toMatchObject({ state: 'ROLLBACK_STARTED', message: `update rolled back due to failure or early termination of task ${fresh[0]!.id}` });
    expect(svc().spec.task.image).toBe('sleep');
    expect(svc().previousSpec?.task.image).toBe('v2');
    for (let i = 0; i < 6; i++) {
      w.nowMs += 5_000;
      w.stopShutdown();
      w.run();
      w.settle();
    }
    expect(w.live().every((t) => t.spec.image === 'sleep')).toBe(true);
    expect(svc().updateStatus?.state).toBe('ROLLBACK_COMPLETED');
  });

  it('waits the update delay after each new task runs before taking the next slot', () => {
    const { w, svc } = updating({ parallelism: 1, delayMs: 10_000, monitorMs: 0 });
    w.settle();
    w.stopShutdown();
    w.settle();
    w.run();
    w.settle();
    const v2 = (): number => w.tasks.filter((t) => t.spec.image === 'v2').length;
    expect(v2()).toBe(1);
    expect(w.wakeAtMs).toBe(w.nowMs + 10_000);
    w.nowMs += 9_999;
    w.settle();
    expect(w.tasks.filter((t) => t.desiredState === 'SHUTDOWN').length).toBe(1);
    w.nowMs += 1;
    w.settle();
    expect(w.tasks.filter((t) => t.desiredState === 'SHUTDOWN').length).toBe(2);
    expect(svc().updateStatus?.state).toBe('UPDATING');
  });

  it('tolerates failures up to the max failure ratio', () => {
    const { w, svc } = updating({ maxFailureRatio: 0.2, failureAction: 'PAUSE' });
    w.settle();
    w.stopShutdown();
    w.settle();
    const fresh = w.live().filter((t) => t.spec.image === 'v2');
    w.setTask(fresh[0]!.id, { state: 'FAILED' });
    w.settle();
    // 1 failure of 6 slots = 0.17: within 0.2, the update goes on.
    expect(svc().updateStatus?.state).toBe('UPDATING');
    w.setTask(fresh[1]!.id, { state: 'FAILED' });
    w.settle();
    expect(svc().updateStatus?.state).toBe('PAUSED');
  });

  it('does not count a new task that ended after the monitor period', () => {
    const { w, svc } = updating({ monitorMs: 5_000 });
    w.settle();
    w.stopShutdown();
    w.settle();
    w.run();
    const fresh = w.live().filter((t) => t.spec.image === 'v2');
    const started = w.nowMs;
    w.nowMs += 6_000;
    w.tasks = w.tasks.map((t) => (t.id === fresh[0]!.id ? { ...t, status: { ...t.status, state: 'FAILED', timestampMs: w.nowMs, container: { containerId: '', pid: 1, exitCode: 1, startedAtMs: started } } } : t));
    w.settle();
    expect(svc().updateStatus?.state).toBe('UPDATING');
    w.tasks = w.tasks.map((t) => (t.id === fresh[1]!.id ? { ...t, status: { ...t.status, state: 'FAILED', timestampMs: w.nowMs, container: { containerId: '', pid: 1, exitCode: 1, startedAtMs: w.nowMs - 1_000 } } } : t));
    w.settle();
    expect(svc().updateStatus?.state).toBe('PAUSED');
  });

  it('a bumped force-update replaces every task; a scale does not', () => {
    const w = new PlanWorld();
    w.nodes = [makeNode('n1')];
    w.services = [makeService('svc', makeSpec('web', { replicas: 2, update: { parallelism: 0, delayMs: 0, failureAction: 'PAUSE', monitorMs: 0, maxFailureRatio: 0, order: 'STOP_FIRST' } }))];
    w.settle();
    w.run();
    const s = w.services[0]!;
    w.services = [{ ...s, spec: { ...s.spec, replicated: { replicas: 3 } } }];
    w.settle();
    expect(w.services[0]!.updateStatus).toBeUndefined();
    w.run();
    const before = w.live().map((t) => t.id);
    const s2 = w.services[0]!;
    w.services = [{ ...s2, spec: { ...s2.spec, task: { ...s2.spec.task, forceUpdate: 1 } } }];
    w.settle();
    w.stopShutdown();
    w.settle();
    w.run();
    w.settle();
    expect(w.live().length).toBe(3);
    expect(w.live().some((t) => before.includes(t.id))).toBe(false);
    expect(w.services[0]!.updateStatus?.state).toBe('COMPLETED');
  });

  it('a change of published ports replaces every task (they carry the ports); an unchanged endpoint does not', () => {
    const w = new PlanWorld();
    w.nodes = [makeNode('n1')];
    const port = { name: '', protocol: 'TCP' as const, targetPort: 80, publishedPort: 8080, publishMode: 'INGRESS' as const };
    const spec = makeSpec('web', { replicas: 2, update: { parallelism: 0, delayMs: 0, failureAction: 'PAUSE', monitorMs: 0, maxFailureRatio: 0, order: 'STOP_FIRST' } });
    w.services = [makeService('svc', { ...spec, endpoint: { mode: 'VIP', ports: [port] } })];
    w.settle();
    w.run();
    w.settle();
    expect(w.services[0]!.updateStatus).toBeUndefined();
    const before = w.live().map((t) => t.id);
    expect(w.live().every((t) => t.endpoint?.spec?.ports[0]?.publishedPort === 8080)).toBe(true);
    const s = w.services[0]!;
    w.services = [{ ...s, spec: { ...s.spec, endpoint: { mode: 'VIP', ports: [{ ...port, publishedPort: 9090 }] } } }];
    w.settle();
    w.stopShutdown();
    w.settle();
    w.run();
    w.settle();
    expect(w.live().length).toBe(2);
    expect(w.live().some((t) => before.includes(t.id))).toBe(false);
    expect(w.live().every((t) => t.endpoint?.spec?.ports[0]?.publishedPort === 9090)).toBe(true);
    expect(w.services[0]!.updateStatus?.state).toBe('COMPLETED');
  });

  it('rollbackServiceSpec is the previous spec, and refuses a service never updated', () => {
    const spec = makeSpec('a');
    const prev = makeSpec('a', { image: 'old' });
    expect(rollbackServiceSpec(makeService('s', spec, { previousSpec: prev }))).toEqual(prev);
    expect(codeOf(() => rollbackServiceSpec(makeService('s', spec)))).toBe('SERVICE_NO_PREVIOUS_SPEC');
  });
});
