import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsswarmError, isTsswarmError } from '../../src/errors/index.js';
import { MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, trustBundleFromPem } from '../../src/manager/ca/index.js';
import { ControlClient } from '../../src/manager/controlapi/control-client.js';
import { cleanupAll, freePort, newHome, type DaemonHome } from './daemon-harness.js';

/**
 * The Control API that the manager serves on its Raft port (2377 in production) with mutual
 * TLS, managers only: reached with the node's own certificate from the data root, refused
 * without one. This is the path a follower's daemon uses to reach the leader.
 */
let home: DaemonHome;
let port: number;
let clusterId: string;
let material: { rootsPem: string; certChainPem: string; keyPem: string };

beforeAll(async () => {
  home = await newHome();
  await home.start();
  port = await freePort();
  expect((await home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`)).code).toBe(0);
  clusterId = (JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { clusterId: string }).clusterId;
  const certs = join(home.dataRoot, 'certificates');
  material = {
    rootsPem: await readFile(join(certs, 'swarm-root-ca.crt'), 'utf8'),
    certChainPem: await readFile(join(certs, 'swarm-node.crt'), 'utf8'),
    keyPem: await readFile(join(certs, 'swarm-node.key'), 'utf8'),
  };
});

afterAll(cleanupAll);

function client(withIdentity: boolean): ControlClient {
  const provider = new MemoryCertificateProvider(withIdentity ? material : { rootsPem: material.rootsPem });
  const trust = trustBundleFromPem(material.rootsPem);
  return new ControlClient({
    target: `127.0.0.1:${port}`,
    credentials: createNodeChannelCredentials(provider, { clusterId, trust: () => trust }, withIdentity ? provider : null),
    channelOptions: NODE_CHANNEL_OPTIONS,
    deadlineMs: 20_000,
    transportError: (err) => new TsswarmError('INTERNAL', { detail: err.message }),
  });
}

describe('Control API on the Raft port over mutual TLS', () => {
  it('serves a caller with a manager certificate of the cluster', async () => {
    const c = client(true);
    try {
      const res = await c.listNodes();
      expect(res.nodes).toHaveLength(1);
      expect(res.nodes[0]).toMatchObject({ role: 'MANAGER', managerStatus: { leader: true, addr: `127.0.0.1:${port}` } });
    } finally {
      c.close();
    }
  });

  it('refuses a caller without a client certificate, with the CA\'s code', async () => {
    const c = client(false);
    try {
      const err: unknown = await c.listNodes().then(() => undefined, (e: unknown) => e);
      expect(isTsswarmError(err) ? err.code : err).toBe('CA_PEER_CERT_MISSING');
    } finally {
      c.close();
    }
  });

  it('keeps the node certificate as Docker issues it: CN node ID, OU swarm-manager, O cluster ID', async () => {
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(material.certChainPem);
    const nodeId = (JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { nodeId: string }).nodeId;
    expect(cert.subject.split('\n').sort()).toEqual([`CN=${nodeId}`, `O=${clusterId}`, 'OU=swarm-manager']);
    expect(cert.checkIssued(new X509Certificate(material.rootsPem))).toBe(true);
  });
});
