import { describe, expect, it } from 'vitest';
import { updatedClusterSpec } from '../../src/manager/controlapi/cluster-changes.js';
import { checkRemovable, checkRemovalKeepsQuorum, parseNodeRole, updatedNodeSpec } from '../../src/manager/controlapi/node-changes.js';
import { leaveRefusal, planRenewal, renewalDelay, roleAction } from '../../src/daemon/role-watch.js';
import { createRootCa } from '../../src/manager/ca/index.js';
import { sameCertificates, trustedRootsBundle } from '../../src/manager/controlapi/ca-rotation.js';
import type { ClusterSpec, Node } from '../../src/objects/index.js';
import { seededRng } from '../../src/util/rng.js';
import { codeOf } from '../support/errors.js';

/** The pure decisions behind node update/rm/demote, cluster update, leave and renewal. */

function node(over: Partial<Node> = {}): Node {
  return {
    id: 'n1', meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 },
    spec: { annotations: { name: '', labels: { a: '1' } }, desiredRole: 'WORKER', availability: 'ACTIVE' },
    status: { state: 'DOWN', message: '', addr: '' }, role: 'WORKER', ...over,
  } as Node;
}

const spec: ClusterSpec = {
  annotations: { name: 'default', labels: {} }, dispatcherHeartbeatPeriodMs: 5000, nodeCertExpiryMs: 90 * 24 * 3_600_000,
  taskHistoryRetentionLimit: 5, snapshotInterval: 10000, logEntriesForSlowFollowers: 500, autolockManagers: false,
};

describe('node update', () => {
  it('sets availability and labels', () => {
    const next = updatedNodeSpec(node(), { ref: 'n1', availability: 'Pause', labelAdd: ['b=2', 'c', 'd=x=y'], labelRm: ['a'] });
    expect(next.availability).toBe('PAUSE');
    expect(next.annotations.labels).toEqual({ b: '2', c: '', d: 'x=y' });
  });

  it('refuses bad input', () => {
    const n = node();
    expect(codeOf(() => updatedNodeSpec(n, { ref: '', availability: 'off', labelAdd: [], labelRm: [] }))).toBe('SWARM_INVALID_OPTION');
    expect(codeOf(() => updatedNodeSpec(n, { ref: '', availability: '', labelAdd: ['=v'], labelRm: [] }))).toBe('SWARM_INVALID_OPTION');
    expect(codeOf(() => updatedNodeSpec(n, { ref: '', availability: '', labelAdd: ['a b=1'], labelRm: [] }))).toBe('SWARM_INVALID_OPTION');
    expect(codeOf(() => updatedNodeSpec(n, { ref: '', availability: '', labelAdd: [], labelRm: ['zz'] }))).toBe('SWARM_INVALID_OPTION');
    expect(n.spec.annotations.labels).toEqual({ a: '1' });
  });
});

describe('node rm and demote', () => {
  it('refuses managers always and Ready nodes without --force', () => {
    expect(codeOf(() => checkRemovable(node({ role: 'MANAGER' }), true))).toBe('NODE_IS_MANAGER');
    expect(codeOf(() => checkRemovable(node({ spec: { ...node().spec, desiredRole: 'MANAGER' } }), true))).toBe('NODE_IS_MANAGER');
    expect(codeOf(() => checkRemovable(node({ status: { state: 'READY', message: '', addr: '' } }), false))).toBe('NODE_NOT_DOWN');
    expect(codeOf(() => checkRemovable(node({ status: { state: 'READY', message: '', addr: '' } }), true))).toBe('nothing thrown');
    expect(codeOf(() => checkRemovable(node(), false))).toBe('nothing thrown');
  });

  it('keeps a reachable quorum of the voters left (swarmkit\'s CanRemoveMember)', () => {
    const all = new Set(['a', 'b', 'c']);
    expect(codeOf(() => checkRemovalKeepsQuorum('b', { voters: ['a', 'b', 'c'], reachable: all }))).toBe('nothing thrown');
    expect(codeOf(() => checkRemovalKeepsQuorum('b', { voters: ['a', 'b', 'c'], reachable: new Set(['a', 'b']) }))).toBe('DEMOTE_WOULD_LOSE_QUORUM');
    expect(codeOf(() => checkRemovalKeepsQuorum('c', { voters: ['a', 'b', 'c'], reachable: new Set(['a', 'b']) }))).toBe('nothing thrown');
    expect(codeOf(() => checkRemovalKeepsQuorum('a', { voters: ['a'], reachable: new Set(['a']) }))).toBe('DEMOTE_LAST_MANAGER');
    expect(codeOf(() => checkRemovalKeepsQuorum('b', { voters: ['a', 'b'], reachable: new Set(['a']) }))).toBe('nothing thrown');
    expect(codeOf(() => checkRemovalKeepsQuorum('e', { voters: ['a', 'b', 'c', 'd', 'e'], reachable: new Set(['a', 'b', 'e']) }))).toBe('DEMOTE_WOULD_LOSE_QUORUM');
    expect(codeOf(() => parseNodeRole('boss'))).toBe('SWARM_INVALID_OPTION');
  });
});

describe('cluster update', () => {
  it('changes the durations and refuses autolock=true', () => {
    expect(updatedClusterSpec(spec, { dispatcherHeartbeat: '10s', certExpiry: '48h', autolock: 'false' })).toMatchObject({
      dispatcherHeartbeatPeriodMs: 10_000, nodeCertExpiryMs: 48 * 3_600_000, autolockManagers: false,
    });
    expect(updatedClusterSpec(spec, { dispatcherHeartbeat: '', certExpiry: '', autolock: '' })).toEqual(spec);
    expect(codeOf(() => updatedClusterSpec(spec, { dispatcherHeartbeat: '', certExpiry: '', autolock: 'true' }))).toBe('AUTOLOCK_UNSUPPORTED');
    expect(codeOf(() => updatedClusterSpec(spec, { dispatcherHeartbeat: '', certExpiry: '', autolock: 'yes' }))).toBe('SWARM_INVALID_OPTION');
    expect(codeOf(() => updatedClusterSpec(spec, { dispatcherHeartbeat: '50ms', certExpiry: '', autolock: '' }))).toBe('SWARM_INVALID_OPTION');
    expect(codeOf(() => updatedClusterSpec(spec, { dispatcherHeartbeat: '', certExpiry: '59m', autolock: '' }))).toBe('SWARM_INVALID_OPTION');
  });
});

describe('the daemon\'s own node', () => {
  it('says why a manager may not just leave', () => {
    expect(leaveRefusal(1)).toContain('last manager');
    expect(leaveRefusal(3)).toContain('one of the 3');
    expect(leaveRefusal(2)).toContain('fewer than the 2');
  });

  it('acts on a promotion or a demotion only', () => {
    expect(roleAction(undefined, false, false)).toBe('none');
    expect(roleAction({ role: 'MANAGER' }, false, false)).toBe('become-manager');
    expect(roleAction({ role: 'MANAGER' }, true, false)).toBe('none');
    expect(roleAction({ role: 'WORKER' }, true, false)).toBe('none');
    expect(roleAction({ role: 'WORKER' }, true, true)).toBe('become-worker');
  });

  it('renews at a point in 50-80% of the certificate\'s life, waiting in timer-sized steps', async () => {
    const root = await createRootCa(new Date());
    const plan0 = planRenewal(root.certPem, seededRng(7));
    const life = plan0.validity.notAfter - plan0.validity.notBefore;
    expect(plan0.renewAt).toBeGreaterThanOrEqual(plan0.validity.notBefore + life * 0.5);
    expect(plan0.renewAt).toBeLessThanOrEqual(plan0.validity.notBefore + life * 0.8);
    expect(planRenewal(root.certPem, seededRng(7)).renewAt).toBe(plan0.renewAt);
    const day = 86_400_000;
    const plan = { validity: { notBefore: 0, notAfter: 90 * day }, renewAt: 60 * day };
    expect(renewalDelay(plan, 0)).toBe(2 ** 31 - 1);
    expect(renewalDelay(plan, 59 * day)).toBe(day);
    expect(renewalDelay(plan, 60 * day)).toBe(0);
    expect(renewalDelay({ ...plan, renewAt: 100 * day }, 72 * day)).toBe(0);
  });

  it('compares trust bundles by their certificates', () => {
    const a = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const b = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';
    expect(sameCertificates(a + b, `${b}\n${a}`)).toBe(true);
    expect(sameCertificates(a, a + b)).toBe(false);
    expect(trustedRootsBundle({ caCertPem: a, caKeyPem: 'k', caCertDigest: '', crossSignedCaCertPem: b, nextCaCertPem: b })).toBe(a + b);
  });
});
