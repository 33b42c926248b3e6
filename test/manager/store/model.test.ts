import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { objectKinds } from '../../../src/manager/store/index.js';
import { localStore } from './helpers.js';

/** 'ok', or the code the write was refused with. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

type Kind = 'service' | 'network' | 'node' | 'task';
interface Op {
  kind: Kind;
  action: 'create' | 'update' | 'delete';
  id: string;
  name: string;
  staleBy: number;
}

/** The naive reference: one map per kind, rules written out the plain way. */
interface ModelObject {
  name: string;
  version: number;
}

const unique: Record<Kind, boolean> = { service: true, network: true, node: false, task: false };

function modelStep(model: Map<Kind, Map<string, ModelObject>>, op: Op, index: number): string {
  const table = model.get(op.kind)!;
  const cur = table.get(op.id);
  const nameTaken = (): boolean => unique[op.kind] && [...table].some(([id, o]) => id !== op.id && o.name.toLowerCase() === op.name.toLowerCase());
  if (op.action === 'create') {
    if (cur !== undefined) return 'STORE_ID_CONFLICT';
    if (nameTaken()) return 'STORE_NAME_CONFLICT';
    table.set(op.id, { name: op.name, version: index });
    return 'ok';
  }
  if (cur === undefined) return 'STORE_NOT_FOUND';
  if (op.action === 'delete') {
    table.delete(op.id);
    return 'ok';
  }
  if (op.staleBy > 0) return 'STORE_VERSION_CONFLICT';
  if (nameTaken()) return 'STORE_NAME_CONFLICT';
  table.set(op.id, { name: op.name, version: index });
  return 'ok';
}

function input(op: Op, version: number): Record<string, unknown> {
  const meta = { version };
  if (op.kind === 'node') return { id: op.id, meta, description: { hostname: op.name } };
  if (op.kind === 'task') return { id: op.id, meta, annotations: { name: op.name }, serviceId: 's' };
  return { id: op.id, meta, spec: { annotations: { name: op.name } } };
}

describe('store transactions against a naive model', () => {
  it('accepts and refuses exactly what the model does, with its error codes and versions', async () => {
    const opArb = fc.record({
      kind: fc.constantFrom<Kind>('service', 'network', 'node', 'task'),
      action: fc.constantFrom<Op['action']>('create', 'update', 'delete'),
      id: fc.constantFrom('a', 'b', 'c'),
      name: fc.constantFrom('web', 'WEB', 'db'),
      staleBy: fc.constantFrom(0, 0, 1),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 50 }), async (ops) => {
        const { store, log } = localStore();
        const model = new Map<Kind, Map<string, ModelObject>>((['service', 'network', 'node', 'task'] as const).map((k) => [k, new Map()]));
        for (const op of ops) {
          const nextIndex = (await log.readIndex()) + 1;
          const current = store.view((tx) => tx.get(op.kind, op.id))?.meta.version ?? 0;
          const want = modelStep(model, op, nextIndex);
          const got = await outcome(
            store.update((tx) => {
              if (op.action === 'create') tx.create(op.kind, input(op, 0));
              else if (op.action === 'update') tx.update(op.kind, input(op, Math.max(0, current - op.staleBy)));
              else tx.delete(op.kind, op.id);
            }),
          );
          expect(got).toBe(want);
        }
        for (const kind of objectKinds) {
          if (kind === 'cluster') continue;
          const actual = store.view((tx) => tx.list(kind).map((o) => [o.id, o.meta.version]));
          const expected = [...model.get(kind as Kind)!].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, o]) => [id, o.version]);
          expect(actual).toEqual(expected);
        }
      }),
      { numRuns: 200, seed: 424242 },
    );
  });
});
