import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRow } from '../../src/cli/commands/node/node-view.js';
import { TsswarmError, isTsswarmError } from '../../src/errors/index.js';
import { MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, trustBundleFromPem } from '../../src/manager/ca/index.js';
import { ControlClient } from '../../src/manager/controlapi/control-client.js';
import { loadControlProto } from '../../src/manager/controlapi/load-proto.js';
import { callUnary } from '../../src/manager/controlapi/node-ca.js';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

/** One cluster for the whole file (A inits, B joins as worker, C as manager): joins are slow. */
let a: DaemonHome;
let b: DaemonHome;
let c: DaemonHome;
let aAddr: string;
let cAddr: string;
let workerToken: string;
let managerToken: string;

async function rows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  expect(ls.code, ls.stderr).toBe(0);
  return ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as NodeRow);
}

async function info(home: DaemonHome): Promise<{ nodeId: string; clusterId: string; localNodeState: string; isManager: boolean; raftLeaderId: string }> {
  const res = await home.cli('info', '--format', 'json');
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as { nodeId: string; clusterId: string; localNodeState: string; isManager: boolean; raftLeaderId: string };
}

async function listen(ip: string): Promise<string> {
  return `${ip}:${await freePort()}`;
}

beforeAll(async () => {
  [a, b, c] = await Promise.all([newHome(), newHome(), newHome()]);
  await Promise.all([a.start(['--node-name', 'node-a']), b.start(['--node-name', 'node-b']), c.start(['--node-name', 'node-c'])]);
  aAddr = await listen('127.0.0.1');
  const init = await a.cli('init', '--advertise-addr', aAddr, '--listen-addr', aAddr);
  expect(init.code, init.stderr).toBe(0);
  workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
  managerToken = (await a.cli('join-token', '-q', 'manager')).stdout.trim();
}, 60_000);

afterAll(cleanupAll);

describe('tsswarm join', () => {
  it('refuses a wrong token, a token for another CA, and changes nothing', async () => {
    const secret = workerToken.split('-')[3]!;
    const wrongSecret = workerToken.replace(secret, secret.replace(/.$/, secret.endsWith('0') ? '1' : '0'));
    const wrong = await b.cli('join', '--token', wrongSecret, aAddr);
    expect(errorCode(wrong), wrong.stderr).toBe('CA_TOKEN_REJECTED');
    const digest = workerToken.split('-')[2]!;
    const otherDigest = workerToken.replace(digest, digest.replace(/.$/, digest.endsWith('0') ? '1' : '0'));
    const mismatch = await b.cli('join', '--token', otherDigest, aAddr);
    expect(errorCode(mismatch), mismatch.stderr).toBe('CA_TOKEN_DIGEST_MISMATCH');
    expect((await info(b)).localNodeState).toBe('inactive');
    await expect(readFile(join(b.dataRoot, 'certificates', 'swarm-node.crt'))).rejects.toThrow();
    expect(await rows(a)).toHaveLength(1);
  });

  it('joins a worker with the worker token, and refuses a second join', async () => {
    const res = await b.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.2', aAddr);
    expect(res.code, res.stderr + b.log).toBe(0);
    expect(res.stdout).toContain('joined a swarm as a worker');
    const bi = await info(b);
    expect(bi).toMatchObject({ localNodeState: 'active', isManager: false, clusterId: (await info(a)).clusterId });
    expect(errorCode(await b.cli('node', 'ls'))).toBe('SWARM_NOT_MANAGER');
    const again = await b.cli('join', '--token', workerToken, aAddr);
    expect(errorCode(again)).toBe('SWARM_ALREADY_INITIALIZED');
    const row = (await rows(a)).find((r) => r.ID === bi.nodeId);
    // Unknown until its dispatcher session opens, then Ready.
    expect(row).toMatchObject({ Hostname: 'node-b', Status: expect.stringMatching(/^(Unknown|Ready)$/) as unknown, ManagerStatus: '' });
  }, 60_000);

  it('issues the worker a worker certificate; 2377 refuses it, and a caller without one, everything but the CA calls', async () => {
    const certs = join(b.dataRoot, 'certificates');
    const material = {
      rootsPem: await readFile(join(certs, 'swarm-root-ca.crt'), 'utf8'),
      certChainPem: await readFile(join(certs, 'swarm-node.crt'), 'utf8'),
      keyPem: await readFile(join(certs, 'swarm-node.key'), 'utf8'),
    };
    const bi = await info(b);
    const cert = new X509Certificate(material.certChainPem);
    expect(cert.subject.split('\n').sort()).toEqual([`CN=${bi.nodeId}`, `O=${bi.clusterId}`, 'OU=swarm-worker']);
    expect(cert.checkIssued(new X509Certificate(material.rootsPem))).toBe(true);
    const trust = trustBundleFromPem(material.rootsPem);
    const codeOf = async (p: Promise<unknown>): Promise<unknown> => p.then(() => 'accepted', (e: unknown) => (isTsswarmError(e) ? e.code : e));
    for (const withCert of [true, false]) {
      const provider = new MemoryCertificateProvider(withCert ? material : { rootsPem: material.rootsPem });
      const creds = createNodeChannelCredentials(provider, { clusterId: bi.clusterId, trust: () => trust }, withCert ? provider : null);
      const control = new ControlClient({
        target: aAddr, credentials: creds, channelOptions: NODE_CHANNEL_OPTIONS, deadlineMs: 20_000,
        transportError: (err) => new TsswarmError('INTERNAL', { detail: err.message }),
      });
      const { MembershipClient, NodeCaClient } = loadControlProto();
      const membership = new MembershipClient(aAddr, creds, { ...NODE_CHANNEL_OPTIONS });
      const ca = new NodeCaClient(aAddr, creds, { ...NODE_CHANNEL_OPTIONS });
      try {
        const expected = withCert ? 'CA_ROLE_DENIED' : 'CA_PEER_CERT_MISSING';
        expect(await codeOf(control.listNodes())).toBe(expected);
        expect(await codeOf(callUnary(membership, 'Join', { addr: '127.0.0.9:1' }, 20_000, aAddr))).toBe(expected);
        expect(await codeOf(callUnary(ca, 'GetRootCACertificate', {}, 20_000, aAddr))).toBe('accepted');
      } finally {
        control.close();
        membership.close();
        ca.close();
      }
    }
    expect(await rows(a)).toHaveLength(2);
  }, 60_000);

  it('joins a manager with the manager token; both managers list the three nodes', async () => {
    cAddr = await listen('127.0.0.3');
    const res = await c.cli('join', '--token', managerToken, '--advertise-addr', cAddr, '--listen-addr', cAddr, aAddr);
    expect(res.code, `${res.stderr}\n--- A ---\n${a.log}\n--- C ---\n${c.log}`).toBe(0);
    expect(res.stdout).toContain('as a manager');
    const ci = await info(c);
    expect(ci.isManager).toBe(true);
    const ai = await info(a);
    for (const home of [a, c]) {
      const list = await rows(home);
      expect(list).toHaveLength(3);
      const byName = Object.fromEntries(list.map((r) => [r.Hostname, r]));
      expect(byName['node-a']).toMatchObject({ ID: ai.nodeId, ManagerStatus: 'Leader' });
      expect(byName['node-b']).toMatchObject({ ManagerStatus: '' });
      expect(byName['node-c']).toMatchObject({ ID: ci.nodeId, ManagerStatus: 'Reachable' });
      expect(list.find((r) => r.Self)?.Hostname).toBe(home === a ? 'node-a' : 'node-c');
    }
  }, 90_000);

  it('refuses the old token after a rotation', async () => {
    const d = await newHome();
    await d.start();
    expect((await a.cli('join-token', '--rotate', 'worker')).code).toBe(0);
    const old = await d.cli('join', '--token', workerToken, aAddr);
    expect(errorCode(old), old.stderr).toBe('CA_TOKEN_REJECTED');
    expect((await info(d)).localNodeState).toBe('inactive');
    expect(await rows(a)).toHaveLength(3);
  }, 60_000);

  it('joins a manager through a follower, which hands the calls to the leader', async () => {
    const e = await newHome();
    await e.start(['--node-name', 'node-e']);
    const eAddr = await listen('127.0.0.5');
    const res = await e.cli('join', '--token', managerToken, '--advertise-addr', eAddr, '--listen-addr', eAddr, cAddr);
    expect(res.code, `${res.stderr}\n--- E ---\n${e.log}`).toBe(0);
    // C handed IssueNodeCertificate to the leader and sent E to the leader for Join.
    expect(c.log).toContain('"method":"Join","code":"RAFT_NOT_LEADER"');
    const list = await rows(a);
    expect(list).toHaveLength(4);
    expect(list.find((r) => r.Hostname === 'node-e')).toMatchObject({ ManagerStatus: 'Reachable' });
  }, 90_000);

  it('a joined manager restarts with the same ID and the cluster still has a leader', async () => {
    const before = await info(c);
    expect(await c.stop('SIGTERM')).toBe(0);
    await c.start(['--node-name', 'node-c']);
    const after = await info(c);
    expect(after).toMatchObject({ nodeId: before.nodeId, isManager: true, clusterId: before.clusterId });
    expect(after.raftLeaderId).not.toBe('');
    const list = await rows(c);
    expect(list).toHaveLength(4);
    // The leader probes the members every few seconds: Unreachable until its next look.
    const deadline = Date.now() + 30_000;
    let self = list.find((r) => r.ID === before.nodeId);
    while (self?.ManagerStatus === 'Unreachable' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      self = (await rows(c)).find((r) => r.ID === before.nodeId);
    }
    expect(self).toMatchObject({ Self: true, ManagerStatus: expect.stringMatching(/^(Leader|Reachable)$/) as unknown });
  }, 90_000);
});
