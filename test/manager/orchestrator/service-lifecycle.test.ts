import { describe, expect, it } from 'vitest';
import type { ServiceLifecycle } from '../../../src/manager/controlapi/service-control.js';
import { checkPlacement, removeService, rollbackServiceSpec } from '../../../src/manager/orchestrator/index.js';
import { LocalProposer, MemoryStore } from '../../../src/manager/store/index.js';
import { codeOf } from '../../support/errors.js';

// What the control API's ServiceControl takes, built from the exports as they are.
const lifecycle: ServiceLifecycle = { checkPlacement, removeService, rollbackSpec: rollbackServiceSpec };

describe('service lifecycle exports for the control API', () => {
  it('checkPlacement refuses malformed constraints and preferences with their codes', () => {
    expect(codeOf(() => lifecycle.checkPlacement(['node.labels.zone=eu'], []))).toBe('PLACEMENT_INVALID_CONSTRAINT');
    expect(codeOf(() => lifecycle.checkPlacement([], ['spread=node.hostname']))).toBe('PLACEMENT_INVALID_PREFERENCE');
    expect(codeOf(() => lifecycle.checkPlacement(['node.role==manager', 'engine.labels.disk!=hdd'], ['node.labels.rack']))).toBe('nothing thrown');
  });

  it('removeService marks the service pending delete and every task desired REMOVE, in the caller\'s transaction', async () => {
    const store = new MemoryStore();
    store.attach(new LocalProposer(store));
    await store.update((tx) => {
      tx.create('service', { id: 'sl-s', spec: { annotations: { name: 'sl' }, task: { image: 'x' }, replicated: { replicas: 2 } } });
      tx.create('task', { id: 'sl-1', serviceId: 'sl-s', slot: 1, desiredState: 'RUNNING', status: { state: 'RUNNING' } });
      tx.create('task', { id: 'sl-2', serviceId: 'sl-s', slot: 2, desiredState: 'SHUTDOWN', status: { state: 'FAILED' } });
    });
    await store.update((tx) => lifecycle.removeService(tx, tx.get('service', 'sl-s')!));
    expect(store.view((tx) => tx.get('service', 'sl-s')!.pendingDelete)).toBe(true);
    expect(store.view((tx) => tx.tasksByService('sl-s').map((t) => t.desiredState))).toEqual(['REMOVE', 'REMOVE']);
    store.close();
  });
});
