import { status, type Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryCertificateProvider, createAuthorizationInterceptor, createBootstrapChannelCredentials, createCallAuthorizer,
  createNodeChannelCredentials, createNodeServerCredentials, currentTrust, rootsPem, type ClusterCa, type NodeTlsMaterial,
} from '../../../src/manager/ca/index.js';
import { makeNode, makeRoot, materialOf, type TestNode } from './ca-fixtures.js';
import { startRawServer, unaryCall } from './grpc-harness.js';

const now = new Date(); // real TLS checks validity against the machine's clock
const OPEN = '/tsswarm.test.Probe/Open';
const BOTH = '/tsswarm.test.Probe/Both';
const MANAGERS = '/tsswarm.test.Probe/Managers';
const UNLISTED = '/tsswarm.test.Probe/Unlisted';

describe('authorization interceptor on a loopback gRPC server', () => {
  let ca: ClusterCa;
  let manager: TestNode;
  let worker: TestNode;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    ca = { root: await makeRoot(now) };
    const serverNode = await makeNode(ca, 'c1', 's1', 'swarm-manager', now);
    [manager, worker] = await Promise.all([makeNode(ca, 'c1', 'm1', 'swarm-manager', now), makeNode(ca, 'c1', 'w1', 'swarm-worker', now)]);
    const authorize = createCallAuthorizer({ clusterId: 'c1', trust: () => currentTrust(ca), removedNodeIds: new Set(), now: () => new Date() });
    const interceptor = createAuthorizationInterceptor(authorize, {
      [OPEN]: 'open',
      [BOTH]: ['swarm-manager', 'swarm-worker'],
      [MANAGERS]: ['swarm-manager'],
    });
    const ok = (_call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>): void => done(null, Buffer.from('ok'));
    const credentials = createNodeServerCredentials(new MemoryCertificateProvider(materialOf(ca, serverNode)), [interceptor]);
    ({ server, port } = await startRawServer(credentials, { [OPEN]: ok, [BOTH]: ok, [MANAGERS]: ok, [UNLISTED]: ok }));
  });

  afterAll(() => server.forceShutdown());

  const as = (material: NodeTlsMaterial, withCert = true) => {
    const provider = new MemoryCertificateProvider(material);
    return createNodeChannelCredentials(provider, { clusterId: 'c1', trust: () => currentTrust(ca) }, withCert ? provider : null);
  };

  it('lets each role through where it is allowed', async () => {
    expect(await unaryCall(port, as(materialOf(ca, worker)), BOTH)).toEqual({ value: 'ok' });
    expect(await unaryCall(port, as(materialOf(ca, manager)), MANAGERS)).toEqual({ value: 'ok' });
  });

  it('stops a worker at a manager-only method, with the error code in a trailer', async () => {
    expect(await unaryCall(port, as(materialOf(ca, worker)), MANAGERS)).toMatchObject({ code: status.PERMISSION_DENIED, errorCode: 'CA_ROLE_DENIED' });
  });

  it('lets a node without a certificate make the open calls only', async () => {
    const joining = as({ rootsPem: rootsPem(currentTrust(ca)) }, false);
    expect(await unaryCall(port, joining, OPEN)).toEqual({ value: 'ok' });
    expect(await unaryCall(port, joining, BOTH)).toMatchObject({ code: status.UNAUTHENTICATED, errorCode: 'CA_PEER_CERT_MISSING' });
  });

  it('refuses a method with no access rule, even to a manager', async () => {
    expect(await unaryCall(port, as(materialOf(ca, manager)), UNLISTED)).toMatchObject({ code: status.PERMISSION_DENIED, errorCode: 'CA_ROLE_DENIED' });
  });

  it('serves the open calls to a bootstrapping node that trusts nothing yet', async () => {
    expect(await unaryCall(port, createBootstrapChannelCredentials(), OPEN)).toEqual({ value: 'ok' });
  });
});
