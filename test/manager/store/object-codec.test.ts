import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type StoreAction } from '../../../src/manager/store/codec/batch-codec.js';
import { canonicalObject, decodeMessage, encodeMessage } from '../../../src/manager/store/codec/object-codec.js';
import { objectSchema } from '../../../src/manager/store/codec/schema.js';
import { taskStateBefore, taskStateValues } from '../../../src/manager/store/index.js';

describe('object codec', () => {
  it('gives the canonical form: defaults filled, required sub-messages present, absent optional ones left out, frozen', () => {
    const t = canonicalObject('task', { id: 't1', status: { state: 'RUNNING', timestampMs: 1_700_000_000_123 } });
    expect(t.spec.env).toEqual([]);
    expect(t.status).toEqual({ timestampMs: 1_700_000_000_123, state: 'RUNNING', message: '', err: '' });
    expect(t.meta).toEqual({ version: 0, createdAtMs: 0, updatedAtMs: 0 });
    expect('endpoint' in t).toBe(false);
    expect(Object.isFrozen(t.status)).toBe(true);
    const s = canonicalObject('service', { id: 's', spec: { annotations: { name: 'web' }, global: {} } });
    expect(s.spec.global).toEqual({});
    expect('replicated' in s.spec).toBe(false);
    const c = canonicalObject('cluster', { id: 'c', networkBootstrapKeys: [{ subsystem: 'networking:overlay', key: new Uint8Array([1, 2, 3]), lamportTime: 7 }] });
    expect([...c.networkBootstrapKeys[0]!.key]).toEqual([1, 2, 3]);
  });

  it.each([
    ['an unknown field', { id: 'x', nope: 1 }, 'nope is not a field of Task'],
    ['an unknown enum name', { id: 'x', desiredState: 'RUNING' }, 'desiredState must be one of'],
    ['a string for a number', { id: 'x', slot: '1' }, 'slot must be a safe integer'],
    ['a negative unsigned', { id: 'x', slot: -1 }, 'slot must not be negative'],
    ['a scalar for a list', { id: 'x', networks: 'n' }, 'networks must be a list'],
    ['a bad nested field', { id: 'x', status: { container: { pid: 1.5 } } }, 'status.container.pid must be a safe integer'],
    ['no id', { slot: 1 }, 'id is empty'],
  ])('refuses %s with STORE_INVALID_OBJECT naming the field', (_name, value, problem) => {
    try {
      canonicalObject('task', value);
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe('STORE_INVALID_OBJECT');
      expect(String((err as { details: { problem: string } }).details.problem)).toContain(problem);
    }
  });

  it('encodes task states with swarmkit numbers, which only grow along a task\'s life', () => {
    const type = objectSchema().byKind.task;
    const bytes = encodeMessage(type, { id: 't', status: { state: 'RUNNING' } });
    const raw = type.toObject(type.decode(bytes), { enums: Number }) as { status: { state: number } };
    expect(raw.status.state).toBe(512);
    expect(decodeMessage<{ status: { state: string } }>(type, bytes).status.state).toBe('RUNNING');
    const order = Object.values(taskStateValues);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(taskStateBefore('ASSIGNED', 'RUNNING')).toBe(true);
    expect(taskStateBefore('ORPHANED', 'FAILED')).toBe(false);
  });

  it('round-trips a batch assembled from pre-encoded objects through protobufjs decoding', () => {
    const objects = {
      node: canonicalObject('node', { id: 'n', spec: { availability: 'DRAIN' }, description: { hostname: 'h' } }),
      cluster: canonicalObject('cluster', { id: 'c', spec: { annotations: { name: 'default' } }, dataPathPort: 4789 }),
      service: canonicalObject('service', { id: 's', meta: { version: 12 }, spec: { annotations: { name: 'web', labels: { a: 'b' } }, replicated: { replicas: 3 } } }),
      task: canonicalObject('task', { id: 't', slot: 2, status: { state: 'FAILED', container: { exitCode: -1 } } }),
      network: canonicalObject('network', { id: 'w', vni: 4097, spec: { annotations: { name: 'x' }, driverOptions: { encrypted: '' } } }),
    };
    const actions: StoreAction[] = [
      { kind: 'CREATE', objectKind: 'node', object: objects.node },
      { kind: 'UPDATE', objectKind: 'service', object: objects.service },
      { kind: 'CREATE', objectKind: 'cluster', object: objects.cluster },
      { kind: 'CREATE', objectKind: 'task', object: objects.task },
      { kind: 'UPDATE', objectKind: 'network', object: objects.network },
      { kind: 'DELETE', objectKind: 'task', object: { id: 'gone', meta: { version: 3, createdAtMs: 0, updatedAtMs: 0 } } },
    ];
    const batch = { proposalId: 'p-1', proposedAtMs: 1_795_428_526_752, actions };
    const back = decodeBatch(encodeBatch(batch));
    expect(back.proposalId).toBe('p-1');
    expect(back.proposedAtMs).toBe(1_795_428_526_752);
    expect(back.actions.map((a) => [a.kind, a.objectKind, a.object.id])).toEqual(actions.map((a) => [a.kind, a.objectKind, a.object.id]));
    for (let i = 0; i < 5; i++) expect(back.actions[i]!.object).toEqual(actions[i]!.object);
    expect(decodeBatch(encodeBatch({ proposalId: '', proposedAtMs: 0, actions: [] }))).toEqual({ proposalId: '', proposedAtMs: 0, actions: [] });
  });

  it('loads with @grpc/proto-loader too, so the gRPC services can use the same messages', () => {
    const def = loadSync('proto/objects.proto', { longs: Number, enums: String, defaults: true });
    expect(Object.keys(def)).toEqual(expect.arrayContaining(['tsswarm.objects.Service', 'tsswarm.objects.Task', 'tsswarm.objects.StoreActionBatch']));
  });
});
