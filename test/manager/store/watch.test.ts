import { describe, expect, it } from 'vitest';
import type { StoreEvent, Watcher } from '../../../src/manager/store/index.js';
import { codeOf, localStore, serviceInput, taskInput } from './helpers.js';

/** Reads exactly n events that are already queued (never waits on time). */
async function take(w: Watcher, n: number): Promise<StoreEvent[]> {
  const out: StoreEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await w.next();
    if (r.done === true) throw new Error(`watcher ended after ${i} events`);
    out.push(r.value);
  }
  return out;
}

describe('store watch', () => {
  it('publishes create, update and delete after apply, in commit order, with the old object', async () => {
    const { store } = localStore();
    const w = store.watch();
    await store.update((tx) => tx.create('service', serviceInput('s1', 'web')));
    await store.update((tx) => {
      const s = tx.get('service', 's1')!;
      tx.update('service', { ...s, spec: { ...s.spec, replicated: { replicas: 2 } } });
      tx.create('task', taskInput('t1', 's1', 1));
    });
    await store.update((tx) => tx.delete('service', 's1'));
    const evs = await take(w, 4);
    expect(evs.map((e) => `${e.index}:${e.action}:${e.kind}:${e.object.id}`)).toEqual(['1:create:service:s1', '2:update:service:s1', '2:create:task:t1', '3:delete:service:s1']);
    expect(evs[1]!.oldObject!.meta.version).toBe(1);
    expect(evs[1]!.object.meta.version).toBe(2);
    expect(evs[3]!.object.meta.version).toBe(2);
    expect(w.pending).toBe(0);
    w.close();
    expect(await w.next()).toEqual({ value: undefined, done: true });
  });

  it('filters by kind, action and predicate; refused batches publish nothing', async () => {
    const { store } = localStore();
    const w = store.watch({ kinds: ['task'], actions: ['create'], match: (e) => e.kind === 'task' && e.object.slot > 1 });
    await store.update((tx) => {
      tx.create('service', serviceInput('s1', 'web'));
      for (let i = 1; i <= 3; i++) tx.create('task', taskInput(`t${i}`, 's1', i));
    });
    await codeOf(store.update((tx) => tx.create('task', taskInput('t1', 's1', 5))));
    expect((await take(w, 2)).map((e) => e.object.id)).toEqual(['t2', 't3']);
    expect(w.pending).toBe(0);
  });

  it('viewAndWatch: a consistent view plus every later change, no gap and no duplicate', async () => {
    const { store } = localStore();
    // A log that applies each entry on a later turn of the event loop, as Raft does.
    let index = 0;
    store.attach({
      propose: (d) => new Promise((resolve) => setImmediate(() => (store.apply(++index, d), resolve({ index })))),
      readIndex: async () => index,
    });
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) writes.push(store.update((tx) => tx.create('task', taskInput(`a${i}`, 's1', i))));
    // Subscribe while writes are still being applied (the LocalProposer applies each on its
    // own turn): whatever the view misses, the watcher must deliver, and nothing twice.
    await writes[4];
    const { result, watcher } = store.viewAndWatch((tx) => tx.list('task').map((t) => t.id), { kinds: ['task'] });
    for (let i = 0; i < 5; i++) writes.push(store.update((tx) => tx.create('task', taskInput(`b${i}`, 's1', i))));
    await Promise.all(writes);
    expect(result.length).toBeGreaterThanOrEqual(5);
    expect(result.length).toBeLessThan(15);
    const seen = [...result, ...(await take(watcher, 15 - result.length)).map((e) => e.object.id)];
    expect(new Set(seen).size).toBe(15);
    expect(seen.sort()).toEqual(store.view((tx) => tx.list('task').map((t) => t.id)));
    expect(watcher.pending).toBe(0);
  });

  it('cuts off a watcher that falls too far behind, without holding up apply or other watchers', async () => {
    const { store } = localStore();
    const slow = store.watch(undefined, { queueLimit: 5 });
    const fast = store.watch();
    const fastSeen: string[] = [];
    const reading = (async () => {
      for await (const e of fast) {
        fastSeen.push(e.object.id);
        if (fastSeen.length === 8) break;
      }
    })();
    for (let i = 0; i < 8; i++) await store.update((tx) => tx.create('task', taskInput(`t${i}`, 's1', i)));
    await reading;
    expect(fastSeen).toHaveLength(8);
    expect(fast.closed).toBe(true);
    expect(slow.closed).toBe(true);
    expect(await codeOf(slow.next())).toBe('STORE_WATCH_TOO_SLOW');
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect(store.view((tx) => tx.list('task').length)).toBe(8);
  });

  it('a reader waiting on next() sees the cut-off error too', async () => {
    const { store } = localStore();
    const w = store.watch(undefined, { queueLimit: 1 });
    const first = w.next();
    await store.update((tx) => {
      for (let i = 0; i < 3; i++) tx.create('task', taskInput(`t${i}`, 's1', i));
    });
    expect((await first).value?.object.id).toBe('t0');
    expect(await codeOf(w.next())).toBe('STORE_WATCH_TOO_SLOW');
  });

  it('a filter that throws ends only its own watcher', async () => {
    const { store } = localStore();
    const bad = store.watch({ match: () => { throw new Error('boom'); } });
    const good = store.watch();
    await store.update((tx) => tx.create('task', taskInput('t1', 's1', 1)));
    expect(await codeOf(bad.next())).toBe('INTERNAL');
    expect((await take(good, 1))[0]!.object.id).toBe('t1');
  });

  it('restore publishes the difference between the old and the new state', async () => {
    const a = localStore().store;
    await a.update((tx) => {
      tx.create('task', taskInput('keep', 's1', 1));
      tx.create('task', taskInput('gone', 's1', 2));
    });
    const b = localStore().store;
    b.restore(a.snapshot());
    await a.update((tx) => {
      tx.delete('task', 'gone');
      tx.create('task', taskInput('new', 's1', 3));
      const k = tx.get('task', 'keep')!;
      tx.update('task', { ...k, nodeId: 'n1' });
    });
    const w = b.watch();
    b.restore(a.snapshot());
    const evs = await take(w, 3);
    expect(evs.map((e) => `${e.action}:${e.object.id}`).sort()).toEqual(['create:new', 'delete:gone', 'update:keep']);
    expect(evs.every((e) => e.index === 2)).toBe(true);
    // An empty snapshot empties the store, with a delete event per object.
    b.restore(new Uint8Array());
    expect((await take(w, 2)).map((e) => `${e.action}:${e.object.id}`)).toEqual(['delete:keep', 'delete:new']);
    expect(b.appliedIndex).toBe(0);
  });
});
