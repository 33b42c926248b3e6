import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBatch, type StoreAction } from '../../../src/manager/store/codec/batch-codec.js';
import { canonicalObject } from '../../../src/manager/store/codec/object-codec.js';
import { MemoryStore, objectKinds, type ObjectKind, type ReadTx } from '../../../src/manager/store/index.js';

type Kind = 'service' | 'task' | 'network' | 'node';
interface Op {
  kind: Kind;
  action: 'CREATE' | 'UPDATE' | 'DELETE';
  id: string;
  name: string;
  serviceId: string;
  nodeId: string;
  slot: number;
  /** UPDATE: the version it claims to have read; 'current' = the right one at that point. */
  version: 'current' | number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Kind>('service', 'task', 'network', 'node'),
  action: fc.constantFrom<Op['action']>('CREATE', 'UPDATE', 'DELETE'),
  id: fc.constantFrom('a', 'b', 'c', 'd'),
  name: fc.constantFrom('web', 'Web', 'api', 'db'),
  serviceId: fc.constantFrom('a', 'b'),
  nodeId: fc.constantFrom('', 'n1', 'n2'),
  slot: fc.integer({ min: 0, max: 3 }),
  version: fc.oneof(fc.constant<'current'>('current'), fc.integer({ min: 0, max: 6 })),
});

function objectFor(op: Op, version: number): Record<string, unknown> {
  const meta = { version };
  switch (op.kind) {
    case 'service':
      return { id: op.id, meta, spec: { annotations: { name: op.name, labels: { slot: String(op.slot) } }, replicated: { replicas: op.slot } } };
    case 'network':
      return { id: op.id, meta, spec: { annotations: { name: op.name }, driver: 'overlay' }, vni: 4096 + op.slot };
    case 'node':
      return { id: op.id, meta, description: { hostname: op.name }, status: { state: 'READY' } };
    case 'task':
      return { id: op.id, meta, serviceId: op.serviceId, nodeId: op.nodeId, slot: op.slot, status: { state: 'RUNNING' } };
  }
}

/** Encodes one entry WITHOUT caller-side checks, so apply() meets every kind of conflict. */
function entryFor(ops: Op[], current: MemoryStore, n: number): Uint8Array {
  const actions = ops.map((op): StoreAction => {
    const have = current.view((tx) => tx.get(op.kind, op.id));
    const version = op.version === 'current' ? (have?.meta.version ?? 0) : op.version;
    return { kind: op.action, objectKind: op.kind, object: canonicalObject(op.kind, objectFor(op, version)) };
  });
  return encodeBatch({ proposalId: `p${n}`, actions, proposedAtMs: 1_700_000_000_000 + n });
}

/** Everything a reader can observe, through every index, as plain data. */
function observe(tx: ReadTx): unknown {
  const tables = Object.fromEntries(objectKinds.map((k) => [k, tx.list(k)]));
  const names = ['web', 'api', 'db'].map((n) => objectKinds.map((k: ObjectKind) => tx.findByName(k, n).map((o) => o.id)));
  const tasks = {
    byService: ['a', 'b'].map((s) => tx.tasksByService(s).map((t) => t.id)),
    byNode: ['n1', 'n2'].map((n) => tx.tasksByNode(n).map((t) => t.id)),
    bySlot: ['a', 'b'].flatMap((s) => [0, 1, 2, 3].map((slot) => tx.tasksBySlot(s, slot).map((t) => t.id))),
  };
  return { tables, names, tasks };
}

/** The "dumb" reference: indexes and name rules recomputed by scanning the tables. */
function checkInvariants(tx: ReadTx): void {
  const tasks = tx.list('task');
  for (const s of ['a', 'b']) {
    expect(tx.tasksByService(s)).toEqual(tasks.filter((t) => t.serviceId === s));
    for (const slot of [0, 1, 2, 3]) expect(tx.tasksBySlot(s, slot)).toEqual(tasks.filter((t) => t.serviceId === s && t.slot === slot));
  }
  for (const n of ['n1', 'n2']) expect(tx.tasksByNode(n)).toEqual(tasks.filter((t) => t.nodeId === n));
  for (const kind of ['service', 'network'] as const) {
    const names = tx.list(kind).map((o) => o.spec.annotations.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  }
  for (const kind of objectKinds) for (const o of tx.list(kind)) expect(o.meta.version).toBeGreaterThan(0);
}

describe('store snapshot/restore equivalence (property)', () => {
  it('snapshot at any point, restore elsewhere, apply the rest: same state as applying everything', () => {
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { maxLength: 40 }), fc.nat(), (batches, cut) => {
        const whole = new MemoryStore();
        const entries: Uint8Array[] = [];
        batches.forEach((ops, i) => {
          entries.push(entryFor(ops, whole, i + 1));
          whole.apply(i + 1, entries[i]!);
        });
        checkInvariants(whole.view((tx) => tx));

        const k = batches.length === 0 ? 0 : cut % (batches.length + 1);
        const before = new MemoryStore();
        for (let i = 0; i < k; i++) before.apply(i + 1, entries[i]!);
        const restored = new MemoryStore();
        restored.restore(before.snapshot());
        expect(restored.appliedIndex).toBe(k);
        for (let i = k; i < entries.length; i++) restored.apply(i + 1, entries[i]!);

        expect(restored.view(observe)).toEqual(whole.view(observe));
        expect(Buffer.from(restored.snapshot()).equals(Buffer.from(whole.snapshot()))).toBe(true);
        expect(restored.appliedIndex).toBe(whole.appliedIndex);
      }),
      { numRuns: 300, seed: 20261123 },
    );
  });
});
