import { afterEach, describe, expect, it } from 'vitest';
import { TaskAllocator } from '../../../src/manager/allocator/task-allocator.js';
import { NetworkControl } from '../../../src/manager/controlapi/network-control.js';
import type { MemoryStore, Task } from '../../../src/manager/store/index.js';
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
});
