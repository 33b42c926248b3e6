import { afterEach, describe, expect, it } from 'vitest';
import { TaskAllocator } from '../../../src/manager/allocator/task-allocator.js';
import { NetworkControl, createIngressNetwork } from '../../../src/manager/controlapi/network-control.js';
import { ServiceControl } from '../../../src/manager/controlapi/service-control.js';
import { checkPlacement, removeService, rollbackServiceSpec } from '../../../src/manager/orchestrator/index.js';
import type { DeepPartial, MemoryStore, ServiceSpec, Task } from '../../../src/manager/store/index.js';
import { until } from '../../support/wait.js';
import { localStore, taskInput } from '../store/helpers.js';

/**
 * The allocation runner on a one-member store: NEW tasks of a service on a network get
 * addresses and become PENDING, the service gets its VIP, and a second allocator (a new
 * leader) rebuilt from the store never repeats an address a live task holds.
 */
const running: TaskAllocator[] = [];

afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
});

function start(store: MemoryStore): TaskAllocator {
  const a = new TaskAllocator({ store, config: { retryDelayMs: 20 } });
  running.push(a);
  a.start();
  return a;
}

const tasks = (store: MemoryStore): Task[] => store.view((tx) => tx.list('task'));
const live = (store: MemoryStore): string[] => tasks(store).filter((t) => t.status.state === 'PENDING').flatMap((t) => t.networks.flatMap((n) => n.addresses));

async function addTask(store: MemoryStore, id: string, networkId: string): Promise<void> {
  await store.update((tx) => tx.create('task', { ...taskInput(id, 'svc1', 1), spec: { image: 'sleep', networks: [{ target: networkId, aliases: ['app'] }] } }));
}

describe('TaskAllocator', () => {
  it('attaches NEW tasks, gives the service its VIP, and a new leader repeats no live address', async () => {
    const { store } = localStore();
    const network = await new NetworkControl(store).createNetwork({ annotations: { name: 'appnet' } });
    await store.update((tx) => tx.create('service', {
      id: 'svc1', spec: { annotations: { name: 'app' }, task: { image: 'sleep', networks: [{ target: network.id }] }, replicated: { replicas: 3 }, endpoint: { mode: 'VIP' } },
    }));
    for (const id of ['t1', 't2', 't3']) await addTask(store, id, network.id);

    const first = start(store);
    await until(() => tasks(store).every((t) => t.status.state === 'PENDING'), 'three tasks PENDING');
    await until(() => (store.view((tx) => tx.get('service', 'svc1'))!.endpoint?.virtualIps.length ?? 0) === 1, 'the service VIP');
    const vip = store.view((tx) => tx.get('service', 'svc1'))!.endpoint!.virtualIps[0]!;
    expect(vip).toEqual({ networkId: network.id, addr: expect.stringMatching(/^10\.0\.0\.\d+\/24$/) });
    const t1 = tasks(store).find((t) => t.id === 't1')!;
    expect(t1.networks).toEqual([{ networkId: network.id, addresses: [expect.stringMatching(/^10\.0\.0\.\d+\/24$/)], aliases: ['app'], network: expect.objectContaining({ id: network.id, vni: network.vni }) }]);
    const held = [...live(store), vip.addr];
    expect(new Set(held).size).toBe(4);

    // Leadership moves: the old allocator stops, a new one rebuilds from the store alone.
    await first.stop();
    await store.update((tx) => tx.update('task', { ...tx.get('task', 't1')!, status: { ...tx.get('task', 't1')!.status, state: 'FAILED' } }));
    for (const id of ['t4', 't5', 't6']) await addTask(store, id, network.id);
    start(store);
    await until(() => tasks(store).filter((t) => t.status.state === 'PENDING').length === 5, 'five tasks PENDING');
    const now = [...live(store), vip.addr];
    expect(new Set(now).size).toBe(6);
  });

  it('leaves a task NEW with the reason while its network has no address left, and allocates once one frees up', async () => {
    const { store } = localStore();
    const network = await new NetworkControl(store).createNetwork({ annotations: { name: 'tiny' }, ipam: { configs: [{ subnet: '10.9.0.0/30' }] } });
    await addTask(store, 'a', network.id);
    await addTask(store, 'b', network.id);
    start(store);
    await until(() => tasks(store).some((t) => t.status.state === 'PENDING') && tasks(store).some((t) => t.status.err !== ''), 'one allocated, one refused');
    const holder = tasks(store).find((t) => t.status.state === 'PENDING');
    const waiting = tasks(store).find((t) => t.status.state === 'NEW');
    expect(waiting!.status).toMatchObject({ state: 'NEW', err: expect.stringMatching(/^network allocation failed: network tiny \(10\.9\.0\.0\/30\) has no free address left/) });
    await store.update((tx) => tx.update('task', { ...tx.get('task', holder!.id)!, status: { ...tx.get('task', holder!.id)!.status, state: 'COMPLETE' } }));
    await until(() => store.view((tx) => tx.get('task', waiting!.id))!.status.state === 'PENDING', 'the waiting task allocated');
    expect(store.view((tx) => tx.get('task', waiting!.id))!.networks[0]!.addresses).toEqual(['10.9.0.2/30']);
  });

  it('publishes ports and gives ingress addresses to services, tasks and nodes; a new leader repeats no port or address; service rm frees the port', async () => {
    const { store } = localStore();
    const networks = new NetworkControl(store);
    const services = new ServiceControl(store, { checkPlacement, removeService, rollbackSpec: rollbackServiceSpec }, (fn) => networks.serialize(fn));
    const ingress = await store.update((tx) => createIngressNetwork(tx));
    const app = await networks.createNetwork({ annotations: { name: 'app' } });
    for (const id of ['n1', 'n2']) {
      await store.update((tx) => tx.create('node', { id, role: 'WORKER', spec: { annotations: { name: '' }, desiredRole: 'WORKER', availability: 'ACTIVE' } }));
    }
    const spec = (name: string, ports: Array<{ targetPort: number; publishedPort?: number }>): DeepPartial<ServiceSpec> => ({
      annotations: { name }, task: { image: 'sleep', networks: [{ target: 'app' }] }, endpoint: { ports },
    });
    const web = await services.createService(spec('web', [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 443 }]));
    for (const id of ['w1', 'w2']) await store.update((tx) => tx.create('task', { ...taskInput(id, web.id, 1), spec: web.spec.task }));

    const first = start(store);
    await until(() => tasks(store).every((t) => t.status.state === 'PENDING'), 'the tasks of web PENDING');
    await until(() => store.view((tx) => tx.list('node')).every((n) => n.attachments.length === 1), 'a load-balancer address per node');
    const stored = store.view((tx) => tx.get('service', web.id))!;
    expect(stored.endpoint!.ports.map((p) => p.publishedPort)).toEqual([8080, 30000]);
    expect(stored.endpoint!.virtualIps.map((v) => v.networkId)).toEqual([ingress.id, app.id]);
    const w1 = tasks(store).find((t) => t.id === 'w1')!;
    expect(w1.networks.map((a) => a.networkId)).toEqual([ingress.id, app.id]);
    expect(w1.endpoint).toEqual(stored.endpoint);
    // A settled store stays as it is: another pass (a new network kicks one) writes nothing.
    const versions = (): number[] => store.view((tx) => [...tx.list('service'), ...tx.list('node'), ...tx.list('task')].map((o) => o.meta.version));
    const settled = versions();
    const passes = first.passes;
    await networks.createNetwork({ annotations: { name: 'kick' } });
    await until(() => first.passes > passes, 'another pass');
    await first.idle();
    expect(versions()).toEqual(settled);

    // Leadership moves: a new allocator knows only the store, and hands out nothing in use.
    await first.stop();
    const api = await services.createService(spec('api', [{ targetPort: 80 }]));
    await store.update((tx) => tx.create('task', { ...taskInput('a1', api.id, 1), spec: api.spec.task }));
    await store.update((tx) => tx.create('node', { id: 'n3', role: 'WORKER', spec: { annotations: { name: '' }, desiredRole: 'WORKER', availability: 'ACTIVE' } }));
    start(store);
    await until(() => tasks(store).every((t) => t.status.state === 'PENDING') && store.view((tx) => tx.list('node')).every((n) => n.attachments.length === 1), 'api and n3 allocated');
    expect(store.view((tx) => tx.get('service', api.id))!.endpoint!.ports.map((p) => p.publishedPort)).toEqual([30001]);
    const held = store.view((tx) => [
      ...tx.list('service').flatMap((s) => s.endpoint?.virtualIps.map((v) => v.addr) ?? []),
      ...tx.list('task').flatMap((t) => t.networks.flatMap((a) => a.addresses)),
      ...tx.list('node').flatMap((n) => n.attachments.flatMap((a) => a.addresses)),
    ]);
    // VIPs of web and api (ingress, app), two web tasks and one api task on both, three nodes.
    expect(held).toHaveLength(2 + 2 + 2 * 2 + 2 + 3);
    expect(new Set(held).size).toBe(held.length);

    // `service rm web` frees 8080 at once: another service may publish it.
    await services.removeServices(['web']);
    const again = await services.createService(spec('again', [{ targetPort: 81, publishedPort: 8080 }]));
    await until(() => store.view((tx) => tx.get('service', again.id))!.endpoint!.ports[0]?.publishedPort === 8080, 'the freed port published again');
  });
});
