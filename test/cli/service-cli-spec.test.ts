import { describe, expect, it } from 'vitest';
import { convergence } from '../../src/cli/commands/service/converge.js';
import { createSpec, placementPreference } from '../../src/cli/commands/service/create.js';
import { parseScaleArg } from '../../src/cli/commands/service/scale-rollback-rm.js';
import { humanDuration, orderTasks, portsText } from '../../src/cli/commands/service/service-view.js';
import { updatedSpec } from '../../src/cli/commands/service/update.js';
import { normalizeServiceSpec } from '../../src/manager/controlapi/service-spec.js';
import type { Service, Task, TaskState } from '../../src/objects/index.js';
import { codeOf } from '../support/errors.js';

const create = (flags: Record<string, unknown>, image = 'sleep', args = ['1000']) => createSpec({ mode: 'replicated', ...flags }, image, args);

describe('service create flags', () => {
  it('turn into the spec Docker would make', () => {
    const spec = normalizeServiceSpec(create({
      name: 'web', replicas: '3', publish: ['8080:80'], env: ['A=1'], constraint: ['node.role==worker'],
      placementPref: ['spread=node.labels.zone'], restartCondition: 'on-failure', restartDelay: '1s',
      updateParallelism: '2', updateFailureAction: 'rollback', updateOrder: 'start-first', healthCmd: 'true', hostname: '{{.Service.Name}}-{{.Task.Slot}}',
    }));
    expect(spec.replicated).toEqual({ replicas: 3 });
    expect(spec.task).toMatchObject({ image: 'sleep', args: ['1000'], env: ['A=1'], hostname: '{{.Service.Name}}-{{.Task.Slot}}' });
    expect(spec.task.placement).toMatchObject({ constraints: ['node.role==worker'], preferences: [{ spreadDescriptor: 'node.labels.zone' }] });
    expect(spec.task.restart).toMatchObject({ condition: 'ON_FAILURE', delayMs: 1000 });
    expect(spec.update).toMatchObject({ parallelism: 2, failureAction: 'ROLLBACK', order: 'START_FIRST' });
    expect(spec.task.healthcheck?.test).toEqual(['CMD-SHELL', 'true']);
    expect(spec.endpoint?.ports).toEqual([{ name: '', protocol: 'TCP', targetPort: 80, publishedPort: 8080, publishMode: 'INGRESS' }]);
  });

  it('global mode has no replicas', () => {
    expect(create({ name: 'g', mode: 'global' }).global).toEqual({});
    expect(codeOf(() => create({ name: 'g', mode: 'global', replicas: '2' }))).toBe('SERVICE_INVALID_OPTION');
    expect(codeOf(() => create({ name: 'g', mode: 'everywhere' }))).toBe('SERVICE_INVALID_OPTION');
  });

  it.each([
    [{ replicas: 'three' }], [{ replicas: '-1' }], [{ restartDelay: 'soon' }], [{ publish: ['80:x'] }],
    [{ updateMaxFailureRatio: 'half' }], [{ placementPref: ['pack=node.labels.zone'] }], [{ label: ['=x'] }],
  ])('refuse bad values %j', (flags) => {
    expect(codeOf(() => create({ name: 'x', ...flags }))).toBe('SERVICE_INVALID_OPTION');
  });

  it('placement preferences are spread=...', () => {
    expect(placementPreference('spread=node.labels.rack')).toEqual({ spreadDescriptor: 'node.labels.rack' });
  });
});

describe('service update flags', () => {
  const current = normalizeServiceSpec(create({ name: 'web', env: ['A=1', 'B=2'], publish: ['8080:80'], constraint: ['node.role==worker'], label: ['x=1'] }));

  it('add, replace and remove as Docker does', () => {
    const next = normalizeServiceSpec(updatedSpec(current, {
      image: 'cat', envAdd: ['B=3', 'C=4'], envRm: ['A'], publishAdd: ['9090:90'], publishRm: ['8080'],
      constraintRm: ['node.role==worker'], constraintAdd: ['node.labels.zone==a'], labelRm: ['x'], labelAdd: ['y=2'], force: true, replicas: '4',
    }));
    expect(next.task.image).toBe('cat');
    expect(next.task.env).toEqual(['B=3', 'C=4']);
    expect(next.endpoint!.ports.map((p) => p.publishedPort)).toEqual([9090]);
    expect(next.task.placement!.constraints).toEqual(['node.labels.zone==a']);
    expect(next.annotations.labels).toEqual({ y: '2' });
    expect(next.task.forceUpdate).toBe(current.task.forceUpdate + 1);
    expect(next.replicated).toEqual({ replicas: 4 });
  });

  it('keeps everything no flag names', () => {
    expect(normalizeServiceSpec(updatedSpec(current, {}))).toEqual(current);
  });

  it('refuses --env (Docker wants --env-add) and replicas on a global service', () => {
    expect(codeOf(() => updatedSpec(current, { env: ['A=2'] }))).toBe('SERVICE_INVALID_OPTION');
    const global = normalizeServiceSpec(create({ name: 'g', mode: 'global' }));
    expect(codeOf(() => updatedSpec(global, { replicas: '2' }))).toBe('SERVICE_INVALID_OPTION');
  });
});

describe('views', () => {
  it('scale arguments', () => {
    expect(parseScaleArg('web=5')).toEqual({ ref: 'web', replicas: 5 });
    for (const bad of ['web', 'web=', 'web=-1', '=3', 'web=x']) expect(codeOf(() => parseScaleArg(bad))).toBe('SERVICE_INVALID_OPTION');
  });

  it('ports and durations read like Docker\'s', () => {
    expect(portsText([{ name: '', protocol: 'TCP', targetPort: 80, publishedPort: 8080, publishMode: 'INGRESS' }, { name: '', protocol: 'UDP', targetPort: 53, publishedPort: 53, publishMode: 'HOST' }]))
      .toBe('*:8080->80/tcp, :53->53/udp');
    expect([500, 1000, 5000, 60_000, 600_000, 3_600_000, 7_200_000].map(humanDuration))
      .toEqual(['Less than a second', '1 second', '5 seconds', 'About a minute', '10 minutes', 'About an hour', '2 hours']);
  });

  let n = 0;
  const task = (slot: number, state: TaskState, desired: TaskState = 'RUNNING', createdAtMs = ++n, specVersion = 1): Task => ({
    id: `t${n}`, meta: { version: 1, createdAtMs, updatedAtMs: 0 }, spec: { image: 'sleep' } as Task['spec'], serviceId: 's', slot, nodeId: 'n1',
    serviceAnnotations: { name: 'web', labels: {} }, status: { timestampMs: 0, state, message: '', err: '' }, desiredState: desired, networks: [], specVersion,
  });
  const service = (replicas: number, extra: Partial<Service> = {}): Service => ({
    id: 's', meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 }, pendingDelete: false,
    spec: { annotations: { name: 'web', labels: {} }, task: { image: 'sleep' } as Service['spec']['task'], replicated: { replicas } }, ...extra,
  });

  it('history shows under the newest task of each slot', () => {
    const ordered = orderTasks([task(2, 'RUNNING'), task(1, 'FAILED', 'SHUTDOWN'), task(1, 'RUNNING')]);
    expect(ordered.map((o) => [o.task.slot, o.task.status.state, o.history])).toEqual([[1, 'RUNNING', false], [1, 'FAILED', true], [2, 'RUNNING', false]]);
  });

  it('convergence: every slot running the current spec, nothing extra, no update in progress', () => {
    expect(convergence(service(2), [task(1, 'RUNNING'), task(2, 'STARTING')])).toMatchObject({ running: 1, total: 2, converged: false });
    expect(convergence(service(2), [task(1, 'RUNNING'), task(2, 'RUNNING')])).toMatchObject({ running: 2, converged: true });
    expect(convergence(service(1), [task(1, 'RUNNING'), task(2, 'RUNNING')]).converged).toBe(false);
    expect(convergence(service(1, { updateStatus: { state: 'UPDATING', startedAtMs: 0, completedAtMs: 0, message: '' } }), [task(1, 'RUNNING')]).converged).toBe(false);
    const paused = service(1, { updateStatus: { state: 'PAUSED', startedAtMs: 0, completedAtMs: 0, message: 'update paused' } });
    expect(convergence(paused, [task(1, 'FAILED')], 'update').stopped).toContain('update paused');
    const rolledBack = service(1, { updateStatus: { state: 'ROLLBACK_COMPLETED', startedAtMs: 0, completedAtMs: 0, message: 'rollback completed' } });
    expect(convergence(rolledBack, [task(1, 'RUNNING')], 'update').stopped).toContain('rolled back');
    expect(convergence(rolledBack, [task(1, 'RUNNING')], 'rollback')).toMatchObject({ converged: true });
    expect(convergence(rolledBack, [task(1, 'RUNNING')], 'rollback').stopped).toBeUndefined();
  });
});
