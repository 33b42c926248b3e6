import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import type { DeepPartial, Network, NetworkAttachment, Task } from '../../../src/manager/store/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { seededRng } from '../../../src/util/rng.js';
import { Agent } from '../../../src/worker/agent/index.js';
import { until } from '../../support/wait.js';
import { RecordingExecutor, addNode, connectorFor, makeStore, makeTestCa, startManager, type TestCa } from './dispatcher-harness.js';

/**
 * The dispatcher path of overlay networks: a task's attachments, each with the Network as
 * allocated, travel in AssignmentsMessage through proto-loader and the agent's null-stripping
 * to the executor unchanged (real gRPC with mutual TLS on loopback).
 */
let ca: TestCa;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ca = await makeTestCa();
}, 60_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('network attachments in assignments', () => {
  it('hands the agent each attachment with its address, aliases and the Network as stored', async () => {
    const store = await makeStore(ca, 200);
    await addNode(store, 'm1', 'MANAGER');
    await addNode(store, 'w1');
    const manager = await startManager(ca, store, 'm1', { assignmentBatchMs: 10, statusBatchMs: 10, expiryCheckMs: 20 });
    cleanups.push(() => manager.close());
    await until(() => manager.dispatcher.current() !== undefined, 'the dispatcher to start');

    await store.update((tx) => tx.create('network', {
      id: 'net1', spec: { annotations: { name: 'appnet', labels: { team: 'a' } }, driver: 'overlay', driverOptions: { 'com.docker.network.driver.mtu': '1400' } },
      vni: 4097, driverState: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
      ipam: { driver: 'default', configs: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1', range: '' }] },
    }));
    const network = store.view((tx) => tx.get('network', 'net1'))!;
    await store.update((tx) => tx.create('task', {
      id: 'task1', serviceId: 'svc1', slot: 1, nodeId: 'w1', desiredState: 'RUNNING',
      spec: { runtime: 'PROCESS', image: 'sleep', args: ['1000'], networks: [{ target: 'net1', aliases: ['web'] }] },
      status: { state: 'ASSIGNED', message: '' },
      networks: [{ networkId: 'net1', addresses: ['10.0.1.5/24'], aliases: ['web'], network }],
    } as DeepPartial<Task>));

    const executor = new RecordingExecutor();
    const agent = new Agent({
      nodeId: 'w1', managers: [manager.addr], advertiseAddr: '10.9.8.7',
      description: () => ({ hostname: 'w1', addresses: ['10.9.8.7'], engineVersion: 'test-1' }),
      executor, connect: await connectorFor(ca, 'w1'), clock: systemClock, rng: seededRng(3), logger: silentLogger(),
      config: { statusBatchMs: 10, backoffInitialMs: 20, backoffMaxMs: 200 },
    });
    agent.start();
    cleanups.push(() => agent.stop());

    await until(() => executor.current().has('task1'), 'the task to reach the agent');
    const [attachment] = executor.current().get('task1')!.networks;
    expect(attachment).toEqual({ networkId: 'net1', addresses: ['10.0.1.5/24'], aliases: ['web'], network: expect.any(Object) });
    const delivered: Network = attachment!.network!;
    expect(delivered).toEqual(network);
    // Absent sub-messages stay absent (not null), as the worker reads them.
    expect(delivered.spec.ipam).toBeUndefined();
  }, 60_000);
});

describe('the node\'s own attachments in session messages', () => {
  it('sends the node its attachments with the Network as allocated, and a new session message when they change', async () => {
    const store = await makeStore(ca, 200);
    await addNode(store, 'm1', 'MANAGER');
    await addNode(store, 'w2');
    const manager = await startManager(ca, store, 'm1', { assignmentBatchMs: 10, statusBatchMs: 10, expiryCheckMs: 20 });
    cleanups.push(() => manager.close());
    await until(() => manager.dispatcher.current() !== undefined, 'the dispatcher to start');
    await store.update((tx) => tx.create('network', {
      id: 'ing', spec: { annotations: { name: 'ingress' }, driver: 'overlay', ingress: true }, vni: 4096,
      driverState: { 'com.docker.network.driver.overlay.vxlanid_list': '4096' },
      ipam: { driver: 'default', configs: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1', range: '' }] },
    }));
    const ingress = store.view((tx) => tx.get('network', 'ing'))!;

    const seen: Array<readonly NetworkAttachment[]> = [];
    const agent = new Agent({
      nodeId: 'w2', managers: [manager.addr], advertiseAddr: '10.9.8.6',
      description: () => ({ hostname: 'w2', addresses: ['10.9.8.6'], engineVersion: 'test-1' }),
      executor: new RecordingExecutor(), connect: await connectorFor(ca, 'w2'), clock: systemClock, rng: seededRng(4), logger: silentLogger(),
      config: { statusBatchMs: 10, backoffInitialMs: 20, backoffMaxMs: 200 },
    });
    agent.on('nodeAttachments', (attachments) => seen.push(attachments));
    agent.start();
    cleanups.push(() => agent.stop());
    await until(() => seen.length === 1, 'the first session message');
    expect(seen[0]).toEqual([]);

    // The allocation pass gives the node its load-balancer address (here written as it would).
    const setAttachments = (attachments: DeepPartial<NetworkAttachment>[]): Promise<void> => store.update((tx) => {
      const node = tx.get('node', 'w2')!;
      tx.update('node', { ...node, attachments } as typeof node);
    });
    await setAttachments([{ networkId: 'ing', addresses: ['10.0.0.5/24'], aliases: [], network: ingress }]);
    await until(() => seen.length === 2, 'a session message with the attachment');
    expect(seen[1]).toEqual([{ networkId: 'ing', addresses: ['10.0.0.5/24'], aliases: [], network: ingress }]);
    // Unchanged attachments (another change of the Node) make no new event; removed ones do.
    await store.update((tx) => {
      const node = tx.get('node', 'w2')!;
      tx.update('node', { ...node, spec: { ...node.spec, annotations: { name: 'renamed', labels: {} } } });
    });
    await setAttachments([]);
    await until(() => seen.length === 3, 'a session message without it');
    expect(seen[2]).toEqual([]);
  }, 60_000);
});
