import { describe, expect, it } from 'vitest';
import { TableStore, type TableChange } from '../../src/gossip/core/table-store.js';
import type { TableEventMsg } from '../../src/gossip/wire/messages.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (over: Partial<TableEventMsg>): TableEventMsg => ({
  type: 'TableEvent', network: 'n1', table: 't', key: 'k', owner: 'b', lamport: 1, deleted: false, value: bytes('v'), ...over,
});

function store(active: Set<string> = new Set(['b', 'c'])) {
  const events: TableChange[] = [];
  const s = new TableStore('a', (n) => active.has(n), (e) => events.push(e));
  s.joinNetwork(0, 'n1');
  s.applyNetworkEvent({ node: 'b', network: 'n1', lamport: 1, joined: true });
  s.applyNetworkEvent({ node: 'c', network: 'n1', lamport: 1, joined: true });
  return { s, events, active };
}

describe('gossip table store', () => {
  it('orders entries by Lamport time, then by owner', () => {
    const { s } = store();
    expect(s.applyEntry(0, entry({ lamport: 5, value: bytes('five') }))).toBeTruthy();
    expect(s.applyEntry(0, entry({ lamport: 4, value: bytes('four') }))).toBeUndefined();
    expect(s.applyEntry(0, entry({ lamport: 5, owner: 'c', value: bytes('c5') }))).toBeTruthy();
    expect(s.visibleEntries('n1', 't').map((e) => [e.owner, new TextDecoder().decode(e.value)])).toEqual([['c', 'c5']]);
  });

  it('emits create, update and delete, and keeps deletes as tombstones until reaped', () => {
    const { s, events } = store();
    s.applyEntry(0, entry({ lamport: 1 }));
    s.applyEntry(0, entry({ lamport: 2, value: bytes('w') }));
    s.applyEntry(0, entry({ lamport: 3, deleted: true, value: new Uint8Array() }));
    expect(events.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
    // A late copy of the older put cannot resurrect it while the tombstone lives.
    expect(s.applyEntry(10, entry({ lamport: 2 }))).toBeUndefined();
    expect(s.syncEntries('n1')).toHaveLength(1);
    s.reap(1_000, 1_000, new Set());
    expect(s.syncEntries('n1')).toHaveLength(0);
  });

  it('refuses entries of networks this node has not joined', () => {
    const { s } = store();
    expect(s.applyEntry(0, entry({ network: 'other' }))).toBe('not-member');
    expect(s.visibleEntries('other', 't')).toEqual([]);
  });

  it('hides the entries of an inactive owner and shows them again when it returns', () => {
    const { s, events, active } = store();
    s.applyEntry(0, entry({}));
    s.reevaluateOwner('b', () => active.delete('b'));
    expect(s.visibleEntries('n1', 't')).toEqual([]);
    s.reevaluateOwner('b', () => active.add('b'));
    expect(s.visibleEntries('n1', 't')).toHaveLength(1);
    expect(events.map((e) => e.action)).toEqual(['create', 'delete', 'create']);
  });

  it('hides the entries of an owner that left the network', () => {
    const { s } = store();
    s.applyEntry(0, entry({}));
    s.applyNetworkEvent({ node: 'b', network: 'n1', lamport: 2, joined: false });
    expect(s.visibleEntries('n1', 't')).toEqual([]);
  });

  it('re-issues its own entry when it sees an outdated copy of it (e.g. from before a restart)', () => {
    const { s } = store();
    // This node ('a') no longer has key k, but a peer holds a copy from its previous life.
    const reissued = s.applyEntry(0, entry({ owner: 'a', lamport: 7 }));
    expect(reissued).toMatchObject({ owner: 'a', deleted: true });
    expect((reissued as TableEventMsg).lamport).toBeGreaterThan(7);
    // And a fresh put after that wins over the stale copy everywhere.
    const put = s.put(0, 'n1', 't', 'k', bytes('new'));
    expect(put.lamport).toBeGreaterThan((reissued as TableEventMsg).lamport);
  });

  it('re-asserts its own network membership against a contradicting record', () => {
    const { s } = store();
    const r = s.applyNetworkEvent({ node: 'a', network: 'n1', lamport: 50, joined: false });
    expect(r).toMatchObject({ node: 'a', network: 'n1', joined: true });
    expect(r!.lamport).toBeGreaterThan(50);
  });
});
