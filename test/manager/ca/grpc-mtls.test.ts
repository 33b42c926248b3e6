import * as tls from 'node:tls';
import { status, type Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import {
  MemoryCertificateProvider, createCallAuthorizer, createNodeChannelCredentials, createNodeServerCredentials,
  currentTrust, rootsPem, startRotation, type ClusterCa, type NodeRole, type NodeTlsMaterial, type TrustBundle,
} from '../../../src/manager/ca/index.js';
import { makeNode, makeRoot, materialOf, testConfig, type TestNode } from './ca-fixtures.js';
import { startRawServer, unaryCall } from './grpc-harness.js';

/**
 * Real mutual TLS over loopback. TLS checks validity against the machine's clock, so these
 * certificates are issued at the real time (this is the edge, where wall time is right).
 */
const now = new Date();
const CLUSTER = 'c1';
const WHO_AM_I = '/tsswarm.test.Probe/WhoAmI';
const MANAGERS_ONLY = '/tsswarm.test.Probe/ManagersOnly';

interface Running {
  readonly server: Server;
  readonly port: number;
  readonly provider: MemoryCertificateProvider;
}

/** A server with two methods: one open (reports who called, if anyone), one for managers. */
async function startServer(material: NodeTlsMaterial, trust: () => TrustBundle): Promise<Running> {
  const authorize = createCallAuthorizer({ clusterId: CLUSTER, trust, removedNodeIds: new Set(), now: () => new Date() });
  const reply = (roles: NodeRole[], open: boolean) => (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>): void => {
    try {
      const peer = authorize(call, roles, call.getPath());
      done(null, Buffer.from(JSON.stringify({ nodeId: peer.nodeId, role: peer.role })));
    } catch (err) {
      if (open && isTsswarmError(err, 'CA_PEER_CERT_MISSING')) return done(null, Buffer.from(JSON.stringify({ peer: null })));
      const code = isTsswarmError(err) ? status[err.grpcStatusName as keyof typeof status] : status.INTERNAL;
      done({ code, details: isTsswarmError(err) ? err.code : String(err) });
    }
  };
  const provider = new MemoryCertificateProvider(material);
  const { server, port } = await startRawServer(createNodeServerCredentials(provider), {
    [WHO_AM_I]: reply(['swarm-manager', 'swarm-worker'], true),
    [MANAGERS_ONLY]: reply(['swarm-manager'], false),
  });
  return { server, port, provider };
}

/** One call as a node with `material`, checking the server against `trust`: the reply, or the gRPC error. */
async function call(port: number, material: NodeTlsMaterial, trust: TrustBundle, path: string, withCert = true): Promise<unknown> {
  const provider = new MemoryCertificateProvider(material);
  const creds = createNodeChannelCredentials(provider, { clusterId: CLUSTER, trust: () => trust }, withCert ? provider : null);
  const result = await unaryCall(port, creds, path);
  return 'value' in result ? JSON.parse(result.value) : { code: result.code, details: result.details };
}

/** A raw TLS handshake against the server with the given client options. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<{ protocol: string | null; cn: unknown } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'swarm-ca', rejectUnauthorized: false, ALPNProtocols: ['h2'], ...options }, () => {
      resolve({ protocol: socket.getProtocol(), cn: socket.getPeerCertificate().subject?.CN });
      socket.destroy();
    });
    socket.on('error', (err) => resolve({ error: err.message }));
  });
}

describe('mutual TLS on a loopback gRPC server', () => {
  let ca: ClusterCa;
  let serverNode: TestNode;
  let manager: TestNode;
  let worker: TestNode;
  let stranger: TestNode;
  let running: Running;
  const servers: Server[] = [];

  beforeAll(async () => {
    ca = { root: await makeRoot(now) };
    [serverNode, manager, worker, stranger] = await Promise.all([
      makeNode(ca, CLUSTER, 's1', 'swarm-manager', now),
      makeNode(ca, CLUSTER, 'm1', 'swarm-manager', now),
      makeNode(ca, CLUSTER, 'w1', 'swarm-worker', now),
      makeNode({ root: await makeRoot(now) }, CLUSTER, 'm1', 'swarm-manager', now),
    ]);
    running = await startServer(materialOf(ca, serverNode), () => currentTrust(ca));
    servers.push(running.server);
  });

  afterAll(() => {
    for (const server of servers) server.forceShutdown();
  });

  const trust = (): TrustBundle => currentTrust(ca);

  it('lets the handler see a worker\'s and a manager\'s role', async () => {
    expect(await call(running.port, materialOf(ca, worker), trust(), WHO_AM_I)).toEqual({ nodeId: 'w1', role: 'swarm-worker' });
    expect(await call(running.port, materialOf(ca, manager), trust(), WHO_AM_I)).toEqual({ nodeId: 'm1', role: 'swarm-manager' });
  });

  it('accepts a client without a certificate, whose handler sees no peer', async () => {
    const joining = { rootsPem: rootsPem(trust()) };
    expect(await call(running.port, joining, trust(), WHO_AM_I, false)).toEqual({ peer: null });
    expect(await call(running.port, joining, trust(), MANAGERS_ONLY, false)).toEqual({ code: status.UNAUTHENTICATED, details: 'CA_PEER_CERT_MISSING' });
  });

  it('denies a worker a manager-only call and allows a manager', async () => {
    expect(await call(running.port, materialOf(ca, worker), trust(), MANAGERS_ONLY)).toEqual({ code: status.PERMISSION_DENIED, details: 'CA_ROLE_DENIED' });
    expect(await call(running.port, materialOf(ca, manager), trust(), MANAGERS_ONLY)).toEqual({ nodeId: 'm1', role: 'swarm-manager' });
  });

  it('gives a certificate of another CA no identity', async () => {
    const material = { ...materialOf(ca, stranger), rootsPem: rootsPem(trust()) };
    expect(await call(running.port, material, trust(), WHO_AM_I)).toEqual({ peer: null });
  });

  it('makes the client refuse a server that is a worker, or of another CA', async () => {
    const workerServer = await startServer(materialOf(ca, worker), trust);
    servers.push(workerServer.server);
    const reply = (await call(workerServer.port, materialOf(ca, manager), trust(), WHO_AM_I)) as { code: number };
    expect(reply.code).toBe(status.UNAVAILABLE);
    const foreign = await startServer({ ...materialOf(ca, stranger), rootsPem: rootsPem(trust()) }, trust);
    servers.push(foreign.server);
    expect(((await call(foreign.port, materialOf(ca, manager), trust(), WHO_AM_I)) as { code: number }).code).toBe(status.UNAVAILABLE);
  });

  it('speaks TLS 1.2 or later with AEAD ciphers only', async () => {
    const tls12 = await handshake(running.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(tls12).toMatchObject({ protocol: 'TLSv1.2', cn: 's1' });
    expect(await handshake(running.port, {})).toMatchObject({ protocol: 'TLSv1.3' });
    expect(await handshake(running.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA' })).toHaveProperty('error');
    expect(await handshake(running.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toHaveProperty('error');
  });

  it('serves a renewed certificate without a restart', async () => {
    const renewed = await makeNode(ca, CLUSTER, 's1renewed', 'swarm-manager', now);
    running.provider.update(materialOf(ca, renewed));
    expect(await handshake(running.port, {})).toMatchObject({ cn: 's1renewed' });
    expect(await call(running.port, materialOf(ca, worker), trust(), WHO_AM_I)).toEqual({ nodeId: 'w1', role: 'swarm-worker' });
  });

  it('lets a node that trusts only the old root reach a manager re-issued during a CA rotation', async () => {
    const during = await startRotation(ca, now, testConfig);
    const reissued = await makeNode(during, CLUSTER, 's2', 'swarm-manager', now);
    const rotated = await startServer(materialOf(during, reissued), () => currentTrust(during));
    servers.push(rotated.server);
    // The worker has not heard of the rotation: its TLS trusts the old root only, and so does
    // its check of the server, which succeeds through the cross-signed root the server sends.
    expect(await call(rotated.port, materialOf(ca, worker), currentTrust(ca), WHO_AM_I)).toEqual({ nodeId: 'w1', role: 'swarm-worker' });
  });
});
