import { afterEach, describe, expect, it } from 'vitest';
import type { DeepPartial, ServiceSpec, UpdateConfig } from '../../../src/objects/index.js';
import { Cluster } from './harness.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function threeNodes(prefix: string): Promise<Cluster> {
  cluster = new Cluster(prefix);
  for (const id of ['n1', 'n2', 'n3']) await cluster.addNode(id);
  cluster.start();
  return cluster;
}

const spec = (name: string, o: DeepPartial<ServiceSpec> = {}): DeepPartial<ServiceSpec> => ({
  annotations: { name },
  replicated: { replicas: 1 },
  ...o,
  task: { image: 'sleep', args: ['1000'], restart: { condition: 'ANY', delayMs: 5_000 }, ...o.task },
});

const slotsOf = (c: Cluster, id: string): number[] => c.running(id).map((t) => t.slot).sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('orchestrator, allocator, scheduler and agents on one store', () => {
  it('6 replicas over 3 nodes run 2/2/2; scaled to 10 they run 4/3/3 in slots 1..10', async () => {
    const c = await threeNodes('it-scale-');
    await c.createService('s1', spec('web', { replicated: { replicas: 6 } }));
    await c.until(() => c.running('s1').length === 6, '6 running');
    expect(c.perNode('s1')).toEqual({ n1: 2, n2: 2, n3: 2 });
    await c.updateService('s1', (s) => ({ ...s, spec: { ...s.spec, replicated: { replicas: 10 } } }));
    await c.until(() => c.running('s1').length === 10, '10 running');
    expect(Object.values(c.perNode('s1')).sort()).toEqual([3, 3, 4]);
    expect(slotsOf(c, 's1')).toEqual(range(10));
    const t = c.running('s1')[0]!;
    expect(t.annotations?.name).toBe(`web.${t.slot}.${t.id}`);
    expect(c.view((tx) => tx.get('service', 's1'))?.updateStatus).toBeUndefined();
  });

  it('a global service follows a fourth node', async () => {
    const c = await threeNodes('it-global-');
    await c.createService('g1', { annotations: { name: 'agent' }, global: {}, task: { image: 'sleep' } });
    await c.until(() => c.running('g1').length === 3, '3 running');
    await c.addNode('n4');
    await c.until(() => c.running('g1').length === 4, '4 running');
    expect(Object.keys(c.perNode('g1')).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('drain moves a node\'s tasks away at once; pause only stops new placements', async () => {
    const c = await threeNodes('it-drain-');
    await c.createService('s1', spec('web', { replicated: { replicas: 6 } }));
    await c.until(() => c.running('s1').length === 6, '6 running');
    await c.setNode('n3', (n) => ({ ...n, spec: { ...n.spec, availability: 'PAUSE' } }));
    await c.setNode('n1', (n) => ({ ...n, spec: { ...n.spec, availability: 'DRAIN' } }));
    await c.until(() => c.running('s1').length === 6 && c.perNode('s1').n1 === undefined, 'tasks off n1');
    expect(c.perNode('s1')).toEqual({ n2: 4, n3: 2 });
  });

  it('restarts a killed task after the restart delay; exit 0 with on-failure is not restarted', async () => {
    const c = await threeNodes('it-restart-');
    await c.createService('s1', spec('web', { replicated: { replicas: 2 } }));
    await c.createService('s2', spec('job', { task: { image: 'sleep', restart: { condition: 'ON_FAILURE', delayMs: 1_000 } } }));
    await c.until(() => c.running('s1').length === 2 && c.running('s2').length === 1, 'running');
    const victim = c.running('s1').find((t) => t.slot === 1)!;
    await c.setTaskStatus(victim.id, 'FAILED');
    const clean = c.running('s2')[0]!;
    await c.setTaskStatus(clean.id, 'COMPLETE');
    // The restart delay counts from when the orchestrator saw the failure.
    await c.until(() => c.tasks('s1').find((t) => t.id === victim.id)?.desiredState === 'SHUTDOWN', 'failure seen');
    await c.advance(4_500);
    expect(slotsOf(c, 's1')).toEqual([2]);
    await c.advance(1_000);
    await c.until(() => c.running('s1').length === 2, 'slot 1 restarted');
    expect(slotsOf(c, 's1')).toEqual([1, 2]);
    expect(c.tasks('s1').find((t) => t.id === victim.id)?.desiredState).toBe('SHUTDOWN');
    await c.advance(10_000);
    expect(c.tasks('s2').map((t) => [t.status.state, t.desiredState])).toEqual([['COMPLETE', 'RUNNING']]);
  });

  it('replaces the tasks of a DOWN node on the other nodes', async () => {
    const c = await threeNodes('it-down-');
    await c.createService('s1', spec('web', { replicated: { replicas: 6 } }));
    await c.until(() => c.running('s1').length === 6, '6 running');
    await c.setNode('n2', (n) => ({ ...n, status: { ...n.status!, state: 'DOWN' } }));
    await c.until(() => c.tasks('s1').filter((t) => t.nodeId === 'n2').every((t) => t.desiredState === 'SHUTDOWN'), 'n2 tasks shut down');
    await c.advance(6_000);
    await c.until(() => c.running('s1').filter((t) => t.nodeId !== 'n2').length === 6, 'replaced');
    expect(c.perNode('s1')).toMatchObject({ n1: 3, n3: 3 });
    expect(slotsOf(c, 's1')).toEqual(range(6));
  });

  const failingUpdate = async (prefix: string, failureAction: UpdateConfig['failureAction']): Promise<Cluster> => {
    const c = await threeNodes(prefix);
    const cfg = { parallelism: 2, delayMs: 0, failureAction, monitorMs: 5_000, maxFailureRatio: 0, order: 'STOP_FIRST' as const };
    await c.createService('s1', spec('web', { replicated: { replicas: 6 }, update: cfg, rollback: { ...cfg, failureAction: 'PAUSE' } }));
    await c.until(() => c.running('s1').length === 6, '6 running');
    c.outcome = (t) => (t.spec.image === 'broken' ? 'FAILED' : 'RUNNING');
    await c.updateService('s1', (s) => ({ ...s, previousSpec: s.spec, spec: { ...s.spec, task: { ...s.spec.task, image: 'broken' } } }));
    return c;
  };

  it('a rolling update with parallelism 2 to a failing version pauses', async () => {
    const c = await failingUpdate('it-pause-', 'PAUSE');
    await c.until(() => c.view((tx) => tx.get('service', 's1'))?.updateStatus?.state === 'PAUSED', 'paused');
    const st = c.view((tx) => tx.get('service', 's1'))!.updateStatus!;
    expect(st.message).toMatch(/^update paused due to failure or early termination of task \S+$/);
    await c.advance(30_000);
    // At most the first batch of 2 was touched; the 4 others still run the old image.
    expect(c.running('s1').filter((t) => t.spec.image === 'sleep').length).toBe(4);
  });

  it('with failure action rollback, it rolls back to the previous spec', async () => {
    const c = await failingUpdate('it-rollback-', 'ROLLBACK');
    await c.until(() => c.view((tx) => tx.get('service', 's1'))?.updateStatus?.state === 'ROLLBACK_STARTED', 'rollback started');
    expect(c.view((tx) => tx.get('service', 's1'))!.spec.task.image).toBe('sleep');
    await c.advanceUntil(() => c.view((tx) => tx.get('service', 's1'))?.updateStatus?.state === 'ROLLBACK_COMPLETED', 'rollback completed');
    expect(c.running('s1').length).toBe(6);
    expect(c.running('s1').every((t) => t.spec.image === 'sleep')).toBe(true);
  });

  it('a manual rollback restores the previous spec', async () => {
    const c = await threeNodes('it-manual-');
    await c.createService('s1', spec('web', { replicated: { replicas: 3 }, update: { parallelism: 0, monitorMs: 0 }, rollback: { parallelism: 0, monitorMs: 0 } }));
    await c.until(() => c.running('s1').length === 3, '3 running');
    await c.updateService('s1', (s) => ({ ...s, previousSpec: s.spec, spec: { ...s.spec, task: { ...s.spec.task, image: 'v2' } } }));
    await c.advanceUntil(() => c.view((tx) => tx.get('service', 's1'))?.updateStatus?.state === 'COMPLETED', 'update completed');
    expect(c.running('s1').every((t) => t.spec.image === 'v2')).toBe(true);
    const { rollbackServiceSpec } = await import('../../../src/manager/orchestrator/index.js');
    await c.updateService('s1', (s) => ({
      ...s, spec: rollbackServiceSpec(s), previousSpec: s.spec,
      updateStatus: { state: 'ROLLBACK_STARTED', startedAtMs: c.clock.now(), completedAtMs: 0, message: 'manually requested rollback' },
    }));
    await c.advanceUntil(() => c.view((tx) => tx.get('service', 's1'))?.updateStatus?.state === 'ROLLBACK_COMPLETED', 'rollback completed');
    expect(c.running('s1').map((t) => t.spec.image)).toEqual(['sleep', 'sleep', 'sleep']);
  });

  it('keeps a history of 5 tasks per slot', async () => {
    const c = await threeNodes('it-history-');
    await c.createService('s1', spec('web', { task: { image: 'sleep', restart: { condition: 'ANY', delayMs: 1_000 } } }));
    for (let i = 0; i < 8; i++) {
      await c.until(() => c.running('s1').length === 1, `run ${i}`);
      const victim = c.running('s1')[0]!.id;
      await c.setTaskStatus(victim, 'FAILED');
      await c.until(() => c.tasks('s1').find((t) => t.id === victim)?.desiredState === 'SHUTDOWN', `failure ${i} seen`);
      await c.advance(1_500);
    }
    await c.until(() => c.running('s1').length === 1, 'last run');
    expect(c.tasks('s1').length).toBe(5);
  });

  it('service rm removes the tasks and then the service', async () => {
    const c = await threeNodes('it-rm-');
    await c.createService('s1', spec('web', { replicated: { replicas: 3 } }));
    await c.until(() => c.running('s1').length === 3, '3 running');
    const { removeService } = await import('../../../src/manager/orchestrator/index.js');
    await c.store.update((tx) => removeService(tx, tx.get('service', 's1')!));
    await c.until(() => c.view((tx) => tx.get('service', 's1')) === undefined && c.tasks('s1').length === 0, 'service gone');
  });

  it('stop/start of the runners mid-way converges without duplicate slots', async () => {
    const c = await threeNodes('it-leader-');
    await c.createService('s1', spec('web', { replicated: { replicas: 30 } }));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      await c.restartRunners();
    }
    await c.until(() => c.running('s1').length === 30, '30 running');
    await c.restartRunners();
    await c.updateService('s1', (s) => ({ ...s, spec: { ...s.spec, replicated: { replicas: 12 } } }));
    await c.restartRunners();
    await c.until(() => c.tasks('s1').filter((t) => t.desiredState === 'RUNNING').length === 12, '12 wanted');
    await c.until(() => c.running('s1').length === 12, '12 running');
    expect(slotsOf(c, 's1')).toEqual(range(12));
  });

  it('tasks that fit nowhere wait PENDING with Docker\'s error, and are placed once a node fits', async () => {
    const c = await threeNodes('it-pending-');
    await c.createService('s1', spec('web', { replicated: { replicas: 2 }, task: { image: 'sleep', placement: { constraints: ['node.labels.zone==eu'] } } }));
    await c.until(() => c.tasks('s1').filter((t) => t.status.err !== '').length === 2, 'explained');
    expect(c.tasks('s1').map((t) => [t.status.state, t.status.err])).toEqual([
      ['PENDING', 'no suitable node (scheduling constraints not satisfied on 3 nodes)'],
      ['PENDING', 'no suitable node (scheduling constraints not satisfied on 3 nodes)'],
    ]);
    await c.setNode('n2', (n) => ({ ...n, spec: { ...n.spec, annotations: { ...n.spec.annotations, labels: { zone: 'eu' } } } }));
    await c.until(() => c.running('s1').length === 2, 'placed');
    expect(c.perNode('s1')).toEqual({ n2: 2 });
    expect(c.running('s1').every((t) => t.status.err === '')).toBe(true);
  });

  it('100 replicas reach RUNNING', async () => {
    const c = await threeNodes('it-hundred-');
    const t0 = performance.now();
    await c.createService('s1', spec('web', { replicated: { replicas: 100 } }));
    await c.until(() => c.running('s1').length === 100, '100 running');
    const ms = performance.now() - t0;
    console.log(`100 replicas NEW -> RUNNING in ${ms.toFixed(0)} ms (orchestrator, allocator, scheduler, test agents, one store)`);
    expect(Object.values(c.perNode('s1')).sort()).toEqual([33, 33, 34]);
  });
});
