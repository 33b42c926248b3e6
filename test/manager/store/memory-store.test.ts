import { describe, expect, it } from 'vitest';
import { MemoryStore, type Service } from '../../../src/manager/store/index.js';
import { codeOf, localStore, serviceInput, taskInput } from './helpers.js';

describe('MemoryStore: transactions over a one-member log', () => {
  it('creates objects, stamps meta from the entry index and the proposer clock, fills defaults', async () => {
    let now = 1_000;
    const { store } = localStore({ wallClock: () => now });
    await store.update((tx) => tx.create('service', serviceInput('s1', 'web', 3)));
    const s = store.view((tx) => tx.get('service', 's1'))!;
    expect(s.meta).toEqual({ version: 1, createdAtMs: 1_000, updatedAtMs: 1_000 });
    expect(s.spec.replicated).toEqual({ replicas: 3 });
    expect(s.spec.task.runtime).toBe('PROCESS');
    expect(s.spec.task.env).toEqual([]);
    expect(s.pendingDelete).toBe(false);
    expect(Object.isFrozen(s) && Object.isFrozen(s.spec.task.args)).toBe(true);

    now = 2_000;
    await store.update((tx) => tx.update('service', { ...s, spec: { ...s.spec, replicated: { replicas: 5 } } }));
    const s2 = store.view((tx) => tx.get('service', 's1'))!;
    expect(s2.meta).toEqual({ version: 2, createdAtMs: 1_000, updatedAtMs: 2_000 });
    expect(s2.spec.replicated?.replicas).toBe(5);
    expect(store.appliedIndex).toBe(2);
  });

  it('refuses an update made from a stale read (optimistic concurrency)', async () => {
    const { store } = localStore();
    await store.update((tx) => tx.create('service', serviceInput('s1', 'web')));
    const read = store.view((tx) => tx.get('service', 's1'))!;
    await store.update((tx) => tx.update('service', { ...read, spec: { ...read.spec, replicated: { replicas: 2 } } }));
    // `read` still carries version 1; the object is at version 2 now.
    expect(await codeOf(store.update((tx) => tx.update('service', { ...read, spec: { ...read.spec, replicated: { replicas: 9 } } })))).toBe('STORE_VERSION_CONFLICT');
    expect(store.view((tx) => tx.get('service', 's1'))!.spec.replicated?.replicas).toBe(2);
  });

  it('keeps service and network names unique regardless of case, but allows repeated node hostnames', async () => {
    const { store } = localStore();
    await store.update((tx) => {
      tx.create('service', serviceInput('s1', 'Web'));
      tx.create('network', { id: 'n1', spec: { annotations: { name: 'backend' }, driver: 'overlay' } });
    });
    expect(await codeOf(store.update((tx) => tx.create('service', serviceInput('s2', 'WEB'))))).toBe('STORE_NAME_CONFLICT');
    expect(await codeOf(store.update((tx) => tx.create('network', { id: 'n2', spec: { annotations: { name: 'Backend' } } })))).toBe('STORE_NAME_CONFLICT');
    expect(await codeOf(store.update((tx) => tx.create('service', serviceInput('s1', 'other'))))).toBe('STORE_ID_CONFLICT');
    await store.update((tx) => {
      tx.create('node', { id: 'a', description: { hostname: 'debian' } });
      tx.create('node', { id: 'b', description: { hostname: 'debian' } });
    });
    expect(store.view((tx) => tx.findByName('node', 'DEBIAN').map((n) => n.id))).toEqual(['a', 'b']);
    expect(store.view((tx) => tx.getByName('service', 'web')?.id)).toBe('s1');
    // Renaming frees the old name in the same transaction.
    await store.update((tx) => {
      const s = tx.get('service', 's1')!;
      tx.update('service', { ...s, spec: { ...s.spec, annotations: { name: 'api', labels: {} } } });
      tx.create('service', serviceInput('s2', 'web'));
    });
    expect(store.view((tx) => [tx.getByName('service', 'API')?.id, tx.getByName('service', 'web')?.id])).toEqual(['s1', 's2']);
  });

  it('rejects malformed objects before proposing anything', async () => {
    const { store, log } = localStore();
    const bad = [
      () => store.update((tx) => tx.create('task', { id: 't', status: { state: 'RUNNIN' as never } })),
      () => store.update((tx) => tx.create('task', { id: '' })),
      () => store.update((tx) => tx.create('service', { id: 's', spec: { bogus: 1 } as never })),
      () => store.update((tx) => tx.create('task', { id: 't', slot: -1 })),
    ];
    for (const b of bad) expect(await codeOf(b())).toBe('STORE_INVALID_OBJECT');
    expect(await codeOf(store.update((tx) => tx.delete('task', 'missing')))).toBe('STORE_NOT_FOUND');
    expect(await log.readIndex()).toBe(0);
  });

  it('makes a batch a no-op on every replica when apply finds a conflict the proposer could not see', async () => {
    // Two members' stores fed the same log: the proposer validated against a stale state.
    const a = localStore().store;
    const b = localStore().store;
    const entries: Uint8Array[] = [];
    const recorder = { propose: async (d: Uint8Array) => (entries.push(d), { index: entries.length }), readIndex: async () => entries.length };
    const stale = new MemoryStore({ newProposalId: () => 'x' });
    stale.attach(recorder);
    // Entry 1 (from someone else) creates "web"; the stale proposer has not seen it.
    a.apply(1, await captured(serviceInput('s1', 'web')));
    b.apply(1, await captured(serviceInput('s1', 'web')));
    const p = stale.update((tx) => {
      tx.create('service', serviceInput('s2', 'web'));
      tx.create('task', taskInput('t1', 's2', 1));
    });
    await p.catch(() => undefined);
    for (const st of [a, b]) {
      st.apply(2, entries[0]!);
      expect(st.view((tx) => [tx.list('service').length, tx.list('task').length])).toEqual([1, 0]);
      expect(st.appliedIndex).toBe(2);
    }
  });

  it('reports the apply-time error to the proposer', async () => {
    const { store } = localStore();
    // A proposer whose log first applies someone else's conflicting write.
    let index = 0;
    const other = await captured(serviceInput('s9', 'web'));
    store.attach({
      propose: async (d) => {
        store.apply(++index, other);
        store.apply(++index, d);
        return { index };
      },
      readIndex: async () => index,
    });
    expect(await codeOf(store.update((tx) => tx.create('service', serviceInput('s1', 'WEB'))))).toBe('STORE_NAME_CONFLICT');
    expect(store.view((tx) => tx.list('service').map((s: Service) => s.id))).toEqual(['s9']);
  });

  it('indexes tasks by service, node and slot, following updates and deletes', async () => {
    const { store } = localStore();
    await store.update((tx) => {
      tx.create('task', taskInput('t1', 's1', 1, 'n1'));
      tx.create('task', taskInput('t2', 's1', 2, 'n2'));
      tx.create('task', taskInput('t3', 's1', 1, 'n2'));
      tx.create('task', taskInput('t4', 's2', 1));
    });
    const ids = (f: (tx: import('../../../src/manager/store/index.js').ReadTx) => Array<{ id: string }>) => store.view((tx) => f(tx).map((t) => t.id));
    expect(ids((tx) => tx.tasksByService('s1'))).toEqual(['t1', 't2', 't3']);
    expect(ids((tx) => tx.tasksByNode('n2'))).toEqual(['t2', 't3']);
    expect(ids((tx) => tx.tasksBySlot('s1', 1))).toEqual(['t1', 't3']);
    expect(ids((tx) => tx.tasksByNode(''))).toEqual([]);
    await store.update((tx) => {
      const t4 = tx.get('task', 't4')!;
      tx.update('task', { ...t4, nodeId: 'n1' });
      tx.delete('task', 't1');
      // Reads inside the transaction see its own changes.
      expect(tx.tasksByNode('n1').map((t) => t.id)).toEqual(['t4']);
      expect(tx.tasksBySlot('s1', 1).map((t) => t.id)).toEqual(['t3']);
    });
    expect(ids((tx) => tx.tasksByNode('n1'))).toEqual(['t4']);
    expect(ids((tx) => tx.tasksBySlot('s1', 1))).toEqual(['t3']);
    expect(ids((tx) => tx.tasksByService('s2'))).toEqual(['t4']);
  });

  it('collapses several changes to one object in a transaction into one action', async () => {
    const { store, log } = localStore();
    await store.update((tx) => {
      tx.create('service', serviceInput('s1', 'web'));
      const s = tx.get('service', 's1')!;
      tx.update('service', { ...s, spec: { ...s.spec, replicated: { replicas: 4 } } });
      tx.create('task', taskInput('t1', 's1', 1));
      tx.delete('task', 't1');
    });
    expect(await log.readIndex()).toBe(1);
    expect(store.view((tx) => [tx.get('service', 's1')?.spec.replicated?.replicas, tx.get('task', 't1')])).toEqual([4, undefined]);
    // A transaction that changes nothing proposes nothing.
    await store.update(() => undefined);
    expect(await log.readIndex()).toBe(1);
  });

  it('refuses writes without a proposer and transactions over the entry size limit', async () => {
    expect(await codeOf(new MemoryStore().update(() => undefined))).toBe('STORE_NOT_WRITABLE');
    const { store } = localStore({ config: { maxEntryBytes: 4096 } });
    const big = 'x'.repeat(5000);
    expect(await codeOf(store.update((tx) => tx.create('service', { ...serviceInput('s1', 'web'), spec: { annotations: { name: 'web', labels: { big } } } })))).toBe('STORE_TX_TOO_LARGE');
  });

  it('says the outcome is unknown when the entry committed but was never applied here, and refuses async transactions', async () => {
    const store = new MemoryStore();
    store.attach({ propose: async () => ({ index: 7 }), readIndex: async () => 7 });
    expect(await codeOf(store.update((tx) => tx.create('task', taskInput('t1', 's1', 1))))).toBe('STORE_OUTCOME_UNKNOWN');
    expect(await codeOf(store.update(async () => undefined))).toBe('INTERNAL');
  });

  it('splits a large batch into entries of at most maxActionsPerEntry changes, each applied in order', async () => {
    const { store, log } = localStore({ config: { maxActionsPerEntry: 200 } });
    const res = await store.batch((tx) => {
      for (let i = 0; i < 450; i++) tx.create('task', taskInput(`t${String(i).padStart(3, '0')}`, 's1', i + 1));
    });
    expect(res.entries).toBe(3);
    expect(await log.readIndex()).toBe(3);
    expect(store.view((tx) => tx.tasksByService('s1').length)).toBe(450);
    expect(store.view((tx) => tx.get('task', 't449')!.meta.version)).toBe(3);
  });

  it('splits by bytes too', async () => {
    const { store, log } = localStore({ config: { maxEntryBytes: 8192, maxActionsPerEntry: 1000 } });
    const env = ['X='.padEnd(1000, 'y')];
    await store.batch((tx) => {
      for (let i = 0; i < 20; i++) tx.create('task', { ...taskInput(`t${i}`, 's1', i), spec: { env } });
    });
    expect(await log.readIndex()).toBeGreaterThanOrEqual(3);
    expect(store.view((tx) => tx.list('task').length)).toBe(20);
  });
});

/** The entry bytes a store proposes for creating one service. */
async function captured(service: ReturnType<typeof serviceInput>): Promise<Uint8Array> {
  let data: Uint8Array | undefined;
  const s = new MemoryStore({ newProposalId: () => 'other' });
  s.attach({ propose: async (d) => ((data = d), Promise.reject(new Error('captured'))), readIndex: async () => 0 });
  await s.update((tx) => tx.create('service', service)).catch(() => undefined);
  return data!;
}
