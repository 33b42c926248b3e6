import { describe, expect, it } from 'vitest';
import { nodeMatchesConstraint, parseConstraint, parsePreference, validatePlacement } from '../../../src/manager/scheduler/index.js';
import { codeOf } from '../../support/errors.js';
import { makeNode } from '../orchestrator/fixtures.js';

describe('parseConstraint', () => {
  it.each([
    ['node.role==manager', { key: 'node.role', op: '==', value: 'manager' }],
    ['  node.hostname != web-1 ', { key: 'node.hostname', op: '!=', value: 'web-1' }],
    ['node.labels.Zone==eu', { key: 'node.labels.zone', op: '==', value: 'eu' }],
    ['engine.labels.disk==ssd', { key: 'engine.labels.disk', op: '==', value: 'ssd' }],
    ['node.ip==10.0.0.0/8', { key: 'node.ip', op: '==', value: '10.0.0.0/8' }],
    ['node.id==abc123', { key: 'node.id', op: '==', value: 'abc123' }],
  ])('%s', (expr, want) => {
    expect(parseConstraint(expr)).toEqual(want);
  });

  it.each([
    'node.role=manager', 'node.role', '==manager', 'node.colour==red', 'node.labels.==x', 'node.role==boss',
    'node.ip==10.0.0.300', 'node.ip==10.0.0.0/33', 'node.hostname==', 'node.hostname==a==b', 'node.labels.a==b!=c',
  ])('refuses %s', (expr) => {
    expect(codeOf(() => parseConstraint(expr))).toBe('PLACEMENT_INVALID_CONSTRAINT');
  });
});

describe('parsePreference / validatePlacement', () => {
  it('takes label keys, with or without spread=', () => {
    expect(parsePreference('node.labels.rack')).toEqual({ key: 'node.labels.rack' });
    expect(parsePreference('spread=engine.labels.Disk')).toEqual({ key: 'engine.labels.disk' });
  });
  it.each(['node.hostname', 'binpack=node.labels.rack', 'spread=', 'node.labels.'])('refuses %s', (p) => {
    expect(codeOf(() => parsePreference(p))).toBe('PLACEMENT_INVALID_PREFERENCE');
  });
  it('names the first bad input', () => {
    expect(codeOf(() => validatePlacement(['node.role==worker', 'bad'], []))).toBe('PLACEMENT_INVALID_CONSTRAINT');
    expect(codeOf(() => validatePlacement(['node.role==worker'], ['nope']))).toBe('PLACEMENT_INVALID_PREFERENCE');
    expect(codeOf(() => validatePlacement(['node.role==worker'], ['node.labels.rack']))).toBe('nothing thrown');
  });
});

describe('nodeMatchesConstraint', () => {
  const node = makeNode('n1', { hostname: 'Web-1', role: 'MANAGER', labels: { zone: 'EU' }, engineLabels: { disk: 'ssd' }, addr: '10.1.2.3' });
  it.each([
    ['node.id==n1', true], ['node.id!=n1', false],
    ['node.hostname==web-1', true], ['node.role==manager', true], ['node.role!=worker', true],
    ['node.labels.zone==eu', true], ['node.labels.zone!=eu', false], ['node.labels.rack==a', false], ['node.labels.rack!=a', true],
    ['engine.labels.disk==ssd', true], ['engine.labels.disk==hdd', false],
    ['node.ip==10.1.2.3', true], ['node.ip==10.1.0.0/16', true], ['node.ip==10.2.0.0/16', false], ['node.ip!=10.2.0.0/16', true],
    ['node.platform.os==linux', true],
  ])('%s -> %s', (expr, want) => {
    expect(nodeMatchesConstraint(node, parseConstraint(expr))).toBe(want);
  });
});
