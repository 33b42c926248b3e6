import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSchedule } from '../../../src/manager/scheduler/index.js';
import type { NodeAvailability, NodeState, Task } from '../../../src/objects/index.js';
import { makeNode, makeService, makeSpec, makeTask } from '../orchestrator/fixtures.js';

const svc = makeService('svc-a', makeSpec('web', { replicas: 6 }));
const pending = (n: number, service = svc): Task[] =>
  Array.from({ length: n }, (_, i) => makeTask(service, { slot: i + 1, state: 'PENDING', id: `${service.id}-p${String(i + 1).padStart(3, '0')}` }));

function counts(assign: ReadonlyArray<{ nodeId: string }>): Record<string, number> {
  const c: Record<string, number> = {};
  for (const a of assign) c[a.nodeId] = (c[a.nodeId] ?? 0) + 1;
  return c;
}

describe('planSchedule', () => {
  it('spreads 6 tasks over 3 nodes 2/2/2', () => {
    const nodes = ['n1', 'n2', 'n3'].map((id) => makeNode(id));
    const plan = planSchedule({ nodes, tasks: pending(6) });
    expect(counts(plan.assign)).toEqual({ n1: 2, n2: 2, n3: 2 });
    expect(plan.unplaced).toEqual([]);
  });

  it('prefers the node with fewest tasks of the service, then fewest in total', () => {
    const other = makeService('svc-b', makeSpec('other'));
    const nodes = ['n1', 'n2', 'n3'].map((id) => makeNode(id));
    const tasks = [
      makeTask(svc, { slot: 1, nodeId: 'n1' }),
      makeTask(other, { slot: 1, nodeId: 'n2' }),
      makeTask(other, { slot: 2, nodeId: 'n2' }),
      ...pending(1).map((t) => ({ ...t, slot: 2 })),
    ];
    // n1 has one of ours; n2 none of ours but two others; n3 nothing: n3 wins.
    expect(planSchedule({ nodes, tasks }).assign).toEqual([{ taskId: tasks[3]!.id, nodeId: 'n3' }]);
  });

  it('skips nodes that are down, drained or paused, and explains as Docker', () => {
    const nodes = [makeNode('n1', { state: 'DOWN' }), makeNode('n2', { availability: 'DRAIN' }), makeNode('n3', { availability: 'PAUSE' })];
    const plan = planSchedule({ nodes, tasks: pending(1) });
    expect(plan.assign).toEqual([]);
    expect(plan.unplaced[0]!.message).toBe('no suitable node (3 nodes not available for new tasks)');
  });

  it('applies constraints and counts each filter in the message', () => {
    const s = makeService('svc-c', makeSpec('c', { placement: { constraints: ['node.labels.zone==eu'], preferences: [], maxReplicas: 0, platforms: [] } }));
    const nodes = [makeNode('n1', { labels: { zone: 'us' } }), makeNode('n2', { labels: { zone: 'us' } }), makeNode('n3', { state: 'DOWN', labels: { zone: 'eu' } })];
    const plan = planSchedule({ nodes, tasks: pending(1, s) });
    expect(plan.unplaced[0]!.message).toBe('no suitable node (scheduling constraints not satisfied on 2 nodes; 1 node not available for new tasks)');
    const ok = planSchedule({ nodes: [...nodes, makeNode('n4', { labels: { zone: 'EU' } })], tasks: pending(2, s) });
    expect(counts(ok.assign)).toEqual({ n4: 2 });
  });

  it('keeps max replicas per node', () => {
    const s = makeService('svc-m', makeSpec('m', { placement: { constraints: [], preferences: [], maxReplicas: 1, platforms: [] } }));
    const plan = planSchedule({ nodes: [makeNode('n1'), makeNode('n2')], tasks: pending(3, s) });
    expect(counts(plan.assign)).toEqual({ n1: 1, n2: 1 });
    expect(plan.unplaced).toEqual([{ taskId: 'svc-m-p003', message: 'no suitable node (max replicas per node limit exceed)' }]);
  });

  it('refuses a node whose host-mode published port is taken', () => {
    const spec = makeSpec('h');
    spec.endpoint = { mode: 'VIP', ports: [{ name: '', protocol: 'TCP', targetPort: 80, publishedPort: 8080, publishMode: 'HOST' }] };
    const s = makeService('svc-h', spec);
    const running = makeTask(s, { slot: 1, nodeId: 'n1' });
    const plan = planSchedule({ nodes: [makeNode('n1'), makeNode('n2')], tasks: [running, ...pending(2, s).map((t, i) => ({ ...t, slot: i + 2 }))] });
    expect(counts(plan.assign)).toEqual({ n2: 1 });
    expect(plan.unplaced[0]!.message).toBe('no suitable node (host-mode port already in use on 2 nodes)');
  });

  it('spreads over label values first; nodes without the label are a group of their own', () => {
    const s = makeService('svc-p', makeSpec('p', { placement: { constraints: [], preferences: [{ spreadDescriptor: 'node.labels.rack' }], maxReplicas: 0, platforms: [] } }));
    const nodes = [
      makeNode('a1', { labels: { rack: 'a' } }), makeNode('a2', { labels: { rack: 'a' } }), makeNode('a3', { labels: { rack: 'a' } }),
      makeNode('b1', { labels: { rack: 'b' } }), makeNode('x1'),
    ];
    const plan = planSchedule({ nodes, tasks: pending(6, s) });
    const c = counts(plan.assign);
    expect((c.a1 ?? 0) + (c.a2 ?? 0) + (c.a3 ?? 0)).toBe(2);
    expect(c.b1).toBe(2);
    expect(c.x1).toBe(2);
  });

  it('tries last a node where the service failed 5 times in the last 5 minutes', () => {
    const nodes = [makeNode('n1'), makeNode('n2')];
    const failures = (n: number, at: number): Task[] =>
      Array.from({ length: n }, (_, i) => makeTask(svc, { slot: 9, nodeId: 'n1', state: 'REJECTED', desired: 'SHUTDOWN', timestampMs: at, id: `f${i}` }));
    const one = pending(1);
    expect(planSchedule({ nodes, tasks: [...failures(5, 1_000_000), ...one], nowMs: 1_000_000 }).assign).toEqual([{ taskId: one[0]!.id, nodeId: 'n2' }]);
    expect(planSchedule({ nodes, tasks: [...failures(4, 1_000_000), ...one], nowMs: 1_000_000 }).assign).toEqual([{ taskId: one[0]!.id, nodeId: 'n1' }]);
    // Older than 5 minutes: forgiven.
    expect(planSchedule({ nodes, tasks: [...failures(5, 1_000_000), ...one], nowMs: 1_000_000 + 300_001 }).assign).toEqual([{ taskId: one[0]!.id, nodeId: 'n1' }]);
    // Still used when it is the only node.
    expect(planSchedule({ nodes: [nodes[0]!], tasks: [...failures(5, 1_000_000), ...one], nowMs: 1_000_000 }).assign).toEqual([{ taskId: one[0]!.id, nodeId: 'n1' }]);
  });

  it('checks a task that names its node (global) against that node only', () => {
    const g = makeService('svc-g', makeSpec('g', { global: true }));
    const t1 = { ...makeTask(g, { nodeId: 'n2', state: 'PENDING' }), id: 'g1' };
    const t2 = { ...makeTask(g, { nodeId: 'n1', state: 'PENDING' }), id: 'g2' };
    const plan = planSchedule({ nodes: [makeNode('n1', { availability: 'PAUSE' }), makeNode('n2')], tasks: [t1, t2] });
    expect(plan.assign).toEqual([{ taskId: 'g1', nodeId: 'n2' }]);
    expect(plan.unplaced).toEqual([{ taskId: 'g2', message: 'no suitable node (1 node not available for new tasks)' }]);
  });

  const nodeArb = (i: number) =>
    fc.record({ state: fc.constantFrom('READY', 'READY', 'DOWN', 'UNKNOWN'), availability: fc.constantFrom('ACTIVE', 'ACTIVE', 'PAUSE', 'DRAIN'), zone: fc.constantFrom('eu', 'us') })
      .map((o) => makeNode(`n${i}`, { state: o.state as NodeState, availability: o.availability as NodeAvailability, labels: { zone: o.zone } }));
  const nodesArb = fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i))));

  it('property: never places on an ineligible node, and every task is placed or explained', () => {
    fc.assert(fc.property(nodesArb, fc.integer({ min: 1, max: 20 }), fc.boolean(), (nodes, n, constrained) => {
      const s = makeService('svc-q', makeSpec('q', { placement: { constraints: constrained ? ['node.labels.zone==eu'] : [], preferences: [], maxReplicas: 0, platforms: [] } }));
      const plan = planSchedule({ nodes, tasks: pending(n, s) });
      const byId = new Map(nodes.map((x) => [x.id, x]));
      for (const a of plan.assign) {
        const node = byId.get(a.nodeId)!;
        expect(node.status?.state).toBe('READY');
        expect(node.spec.availability).toBe('ACTIVE');
        if (constrained) expect(node.spec.annotations.labels.zone).toBe('eu');
      }
      expect(plan.assign.length + plan.unplaced.length).toBe(n);
      const anyEligible = nodes.some((x) => x.status?.state === 'READY' && x.spec.availability === 'ACTIVE' && (!constrained || x.spec.annotations.labels.zone === 'eu'));
      expect(plan.unplaced.length === 0).toBe(anyEligible);
    }));
  });

  it('property: among equal nodes, per-node counts differ by at most one', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 60 }), (nodeCount, n) => {
      const nodes = Array.from({ length: nodeCount }, (_, i) => makeNode(`n${i}`));
      const c = counts(planSchedule({ nodes, tasks: pending(n) }).assign);
      const values = nodes.map((x) => c[x.id] ?? 0);
      expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
    }));
  });

  it('is deterministic', () => {
    const nodes = ['n3', 'n1', 'n2'].map((id) => makeNode(id));
    expect(planSchedule({ nodes, tasks: pending(5) })).toEqual(planSchedule({ nodes: [...nodes].reverse(), tasks: pending(5).reverse() }));
  });
});
