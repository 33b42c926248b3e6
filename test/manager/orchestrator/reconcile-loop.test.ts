import { afterEach, describe, expect, it } from 'vitest';
import { ReconcileLoop } from '../../../src/manager/orchestrator/index.js';
import { TaskAllocator } from '../../../src/manager/allocator/task-allocator.js';
import { LocalProposer, MemoryStore } from '../../../src/manager/store/index.js';
import { TsswarmError } from '../../../src/errors/index.js';
import { until } from '../../support/wait.js';
import { VirtualClock } from './virtual-clock.js';

const clock = new VirtualClock();
let store: MemoryStore;
const loops: Array<{ stop(): Promise<void> }> = [];

function freshStore(): MemoryStore {
  store = new MemoryStore({ wallClock: () => clock.now() });
  store.attach(new LocalProposer(store));
  return store;
}

afterEach(async () => {
  for (const l of loops.splice(0)) await l.stop();
  store.close();
});

describe('ReconcileLoop', () => {
  it('runs a pass on start and on changes, retries a version conflict at once and other failures after the delay', async () => {
    freshStore();
    let calls = 0;
    let failWith: TsswarmError | undefined = new TsswarmError('STORE_VERSION_CONFLICT', { kind: 'task', id: 'x', expected: 1, actual: 2 });
    const loop = new ReconcileLoop({
      name: 'rl-test', store, clock, wallClock: () => clock.now(), kinds: ['node'], retryDelayMs: 1_000,
      pass: () => {
        calls++;
        if (failWith !== undefined) {
          const e = failWith;
          failWith = undefined;
          throw e;
        }
        return {};
      },
    });
    loops.push(loop);
    loop.start();
    await until(() => calls === 2, 'the conflict retried');
    await loop.idle();
    failWith = new TsswarmError('RAFT_NO_QUORUM', { voters: 3 });
    await store.update((tx) => tx.create('node', { id: 'rl-n1', role: 'WORKER' }));
    await until(() => calls === 3, 'a pass on change');
    await loop.idle();
    expect(calls).toBe(3);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(3);
    clock.advance(1);
    await until(() => calls === 4, 'the retry after the delay');
  });

  it('wakes at the time a pass asked for, and not after stop', async () => {
    freshStore();
    let calls = 0;
    const loop = new ReconcileLoop({
      name: 'rl-wake', store, clock, wallClock: () => clock.now(), kinds: ['node'], retryDelayMs: 1_000,
      pass: (_tx, now) => {
        calls++;
        return { wakeAtMs: now + 5_000 };
      },
    });
    loop.start();
    await until(() => calls === 1, 'first pass');
    await loop.idle();
    clock.advance(5_000);
    await until(() => calls === 2, 'woken');
    await loop.idle();
    await loop.stop();
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(2);
  });
});

describe('TaskAllocator', () => {
  it('moves NEW tasks meant to run to PENDING and leaves the others', async () => {
    freshStore();
    await store.update((tx) => {
      tx.create('service', { id: 'ta-s', spec: { annotations: { name: 'ta' }, task: { image: 'x' }, replicated: { replicas: 1 } } });
      tx.create('task', { id: 'ta-1', serviceId: 'ta-s', slot: 1, desiredState: 'RUNNING', status: { state: 'NEW' } });
      tx.create('task', { id: 'ta-2', serviceId: 'ta-s', slot: 2, desiredState: 'SHUTDOWN', status: { state: 'NEW' } });
      tx.create('task', { id: 'ta-3', serviceId: 'ta-s', slot: 3, desiredState: 'RUNNING', status: { state: 'RUNNING' } });
    });
    const allocator = new TaskAllocator({ store, clock, wallClock: () => clock.now() });
    loops.push(allocator);
    allocator.start();
    await until(() => store.view((tx) => tx.get('task', 'ta-1')?.status.state) === 'PENDING', 'ta-1 pending');
    await allocator.idle();
    expect(store.view((tx) => [tx.get('task', 'ta-2')!.status.state, tx.get('task', 'ta-3')!.status.state])).toEqual(['NEW', 'RUNNING']);
    expect(store.view((tx) => tx.get('task', 'ta-1')!.status.message)).toBe('pending task scheduling');
  });
});
