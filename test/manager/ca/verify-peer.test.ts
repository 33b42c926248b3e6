import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCallAuthorizer, currentTrust, verifyPeer, type ClusterCa, type PeerCertificateLike, type PeerPolicy, type VerifiedPeer,
} from '../../../src/manager/ca/index.js';
import { DAY, HOUR, NOW, leafOnly, makeNode, makeRoot, type TestNode } from './ca-fixtures.js';
import { codeOf } from '../../support/errors.js';

describe('peer verification', () => {
  let ca: ClusterCa;
  let strangerCa: ClusterCa;
  let manager: TestNode;
  let worker: TestNode;
  let otherCluster: TestNode;
  let stranger: TestNode;
  let policy: PeerPolicy;

  beforeAll(async () => {
    [ca, strangerCa] = [{ root: await makeRoot() }, { root: await makeRoot() }];
    [manager, worker, otherCluster, stranger] = await Promise.all([
      makeNode(ca, 'cluster1', 'm1', 'swarm-manager'),
      makeNode(ca, 'cluster1', 'w1', 'swarm-worker'),
      // Same root, other O: a certificate this CA issued to another cluster ID.
      makeNode(ca, 'cluster2', 'x1', 'swarm-manager'),
      // Same names, other root: a certificate from someone else's CA.
      makeNode(strangerCa, 'cluster1', 'm1', 'swarm-manager'),
    ]);
    policy = {
      trust: currentTrust(ca), clusterId: 'cluster1', now: NOW, allowedRoles: ['swarm-manager', 'swarm-worker'],
      removedNodeIds: new Set(['gone']), operation: 'Dispatcher.Session',
    };
  });

  it('returns the node ID and role of a good certificate', () => {
    const peer: VerifiedPeer = verifyPeer(leafOnly(manager), policy);
    expect(peer).toMatchObject({ nodeId: 'm1', role: 'swarm-manager', clusterId: 'cluster1' });
    expect(peer.notAfter.getTime()).toBe(NOW.getTime() + 90 * DAY);
    expect(verifyPeer(leafOnly(worker), policy)).toMatchObject({ nodeId: 'w1', role: 'swarm-worker' });
  });

  it('refuses a certificate of another CA, even with the right names', () => {
    expect(codeOf(() => verifyPeer(leafOnly(stranger), policy))).toBe('CA_CERT_INVALID');
  });

  it('refuses a certificate of another cluster', () => {
    expect(codeOf(() => verifyPeer(leafOnly(otherCluster), policy))).toBe('CA_CERT_WRONG_CLUSTER');
  });

  it('refuses an expired or not yet valid certificate', () => {
    const after = new Date(NOW.getTime() + 90 * DAY + 1000);
    const before = new Date(NOW.getTime() - HOUR - 1000);
    expect(codeOf(() => verifyPeer(leafOnly(worker), { ...policy, now: after }))).toBe('CA_CERT_EXPIRED');
    expect(codeOf(() => verifyPeer(leafOnly(worker), { ...policy, now: before }))).toBe('CA_CERT_EXPIRED');
    // The last valid second still passes.
    expect(verifyPeer(leafOnly(worker), { ...policy, now: new Date(NOW.getTime() + 90 * DAY) }).nodeId).toBe('w1');
  });

  it('refuses a removed node whose certificate is still valid', () => {
    expect(codeOf(() => verifyPeer(leafOnly(worker), { ...policy, removedNodeIds: new Set(['w1']) }))).toBe('CA_CERT_REMOVED');
  });

  it('refuses a worker where only managers are allowed', () => {
    const managersOnly = { ...policy, allowedRoles: ['swarm-manager'] as const };
    expect(codeOf(() => verifyPeer(leafOnly(worker), managersOnly))).toBe('CA_ROLE_DENIED');
    expect(verifyPeer(leafOnly(manager), managersOnly).role).toBe('swarm-manager');
  });

  it('refuses a missing certificate, garbage and the CA certificate itself', () => {
    expect(codeOf(() => verifyPeer(undefined, policy))).toBe('CA_PEER_CERT_MISSING');
    expect(codeOf(() => verifyPeer({ raw: Buffer.alloc(0) }, policy))).toBe('CA_PEER_CERT_MISSING');
    expect(codeOf(() => verifyPeer({ raw: Buffer.from('junk') }, policy))).toBe('CA_CERT_INVALID');
    expect(codeOf(() => verifyPeer({ raw: ca.root.cert.raw }, policy))).toBe('CA_CERT_INVALID');
  });

  it('ignores an untrusted chain the peer sends along', () => {
    // A stranger leaf that "presents" our root as its issuer still does not verify.
    const forgedChain: PeerCertificateLike = { raw: stranger.cert.raw, issuerCertificate: { raw: ca.root.cert.raw } };
    expect(codeOf(() => verifyPeer(forgedChain, policy))).toBe('CA_CERT_INVALID');
  });

  it('is what a call authorizer applies to grpc-js\'s auth context', () => {
    const authorize = createCallAuthorizer({
      clusterId: 'cluster1', trust: () => currentTrust(ca), removedNodeIds: new Set(), now: () => NOW,
    });
    const call = (cert?: TestNode) => ({ getAuthContext: () => (cert === undefined ? {} : { sslPeerCertificate: leafOnly(cert) }) });
    expect(authorize(call(worker), ['swarm-worker', 'swarm-manager'], 'Dispatcher.Heartbeat').role).toBe('swarm-worker');
    expect(codeOf(() => authorize(call(worker), ['swarm-manager'], 'Control.ListNodes'))).toBe('CA_ROLE_DENIED');
    expect(codeOf(() => authorize(call(), ['swarm-manager'], 'Control.ListNodes'))).toBe('CA_PEER_CERT_MISSING');
  });
});
