import { describe, expect, it } from 'vitest';
import { normalizeServiceSpec, SERVICE_DEFAULTS } from '../../../src/manager/controlapi/service-spec.js';
import { codeOf } from '../../support/errors.js';

const base = { annotations: { name: 'web' }, task: { image: 'sleep', args: ['1000'] } };

describe('normalizeServiceSpec', () => {
  it('fills in Docker\'s defaults: one replica, restart any after 5 s, updates one at a time, pause on failure', () => {
    const spec = normalizeServiceSpec(base);
    expect(spec.replicated).toEqual({ replicas: 1 });
    expect(spec.global).toBeUndefined();
    expect(spec.task.restart).toEqual(SERVICE_DEFAULTS.restart);
    expect(spec.update).toEqual(SERVICE_DEFAULTS.update);
    expect(spec.rollback).toEqual(SERVICE_DEFAULTS.update);
    expect(spec.task.stopGracePeriodMs).toBe(10_000);
    expect(spec.task.runtime).toBe('PROCESS');
    expect(spec.endpoint).toEqual({ mode: 'VIP', ports: [] });
  });

  it('keeps what the caller set', () => {
    const spec = normalizeServiceSpec({
      ...base,
      replicated: { replicas: 0 },
      task: { ...base.task, restart: { condition: 'ON_FAILURE', delayMs: 100 } },
      update: { parallelism: 2, failureAction: 'ROLLBACK', order: 'START_FIRST' },
      endpoint: { ports: [{ targetPort: 80, publishedPort: 8080 }] },
    });
    expect(spec.replicated).toEqual({ replicas: 0 });
    expect(spec.task.restart).toEqual({ condition: 'ON_FAILURE', delayMs: 100, maxAttempts: 0, windowMs: 0 });
    expect(spec.update).toMatchObject({ parallelism: 2, failureAction: 'ROLLBACK', order: 'START_FIRST', monitorMs: 5000 });
    expect(spec.endpoint!.ports).toEqual([{ name: '', protocol: 'TCP', targetPort: 80, publishedPort: 8080, publishMode: 'INGRESS' }]);
  });

  it('fills health check timings only when a check is given', () => {
    expect(normalizeServiceSpec(base).task.healthcheck).toBeUndefined();
    const spec = normalizeServiceSpec({ ...base, task: { ...base.task, healthcheck: { test: ['CMD-SHELL', 'true'] } } });
    expect(spec.task.healthcheck).toEqual({ test: ['CMD-SHELL', 'true'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 });
  });

  it.each([
    ['an empty name', { ...base, annotations: { name: '' } }],
    ['a name that is not a DNS label', { ...base, annotations: { name: 'we b' } }],
    ['a name of 64 characters', { ...base, annotations: { name: 'a'.repeat(64) } }],
    ['no image', { ...base, task: { image: ' ' } }],
    ['replicas with global mode', { ...base, replicated: { replicas: 2 }, global: {} }],
    ['a target port of 0', { ...base, endpoint: { ports: [{ targetPort: 0 }] } }],
    ['a published port above 65535', { ...base, endpoint: { ports: [{ targetPort: 80, publishedPort: 70000 }] } }],
    ['the same published port twice', { ...base, endpoint: { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8080 }] } }],
    ['dnsrr with an ingress port', { ...base, endpoint: { mode: 'DNSRR' as const, ports: [{ targetPort: 80, publishedPort: 8080 }] } }],
    ['a negative restart delay', { ...base, task: { ...base.task, restart: { delayMs: -1 } } }],
    ['a failure ratio above 1', { ...base, update: { maxFailureRatio: 1.5 } }],
    ['a rollback that would roll back', { ...base, rollback: { failureAction: 'ROLLBACK' as const } }],
    ['an env entry without a key', { ...base, task: { ...base.task, env: ['=x'] } }],
    ['a health test of an unknown kind', { ...base, task: { ...base.task, healthcheck: { test: ['RUN', 'x'] } } }],
    ['a network without a name', { ...base, task: { ...base.task, networks: [{ target: '' }] } }],
  ])('refuses %s with SERVICE_INVALID_OPTION', (_what, input) => {
    expect(codeOf(() => normalizeServiceSpec(input))).toBe('SERVICE_INVALID_OPTION');
  });

  it('hands constraints and preferences to the placement check, whose refusal stands', () => {
    const seen: unknown[] = [];
    normalizeServiceSpec({ ...base, task: { ...base.task, placement: { constraints: ['node.role==worker'], preferences: [{ spreadDescriptor: 'node.labels.zone' }] } } }, (c, p) => seen.push(c, p));
    expect(seen).toEqual([['node.role==worker'], ['node.labels.zone']]);
    expect(codeOf(() => normalizeServiceSpec(base, () => { throw new Error('bad'); }))).toMatch(/^not a TsswarmError/);
  });
});
