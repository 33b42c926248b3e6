import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRow } from '../../src/cli/commands/node/node-view.js';
import { isTsswarmError } from '../../src/errors/index.js';
import { MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, createNodeKeyAndCsr, trustBundleFromPem } from '../../src/manager/ca/index.js';
import { loadControlProto } from '../../src/manager/controlapi/load-proto.js';
import { callUnary } from '../../src/manager/controlapi/node-ca.js';
import type { Node } from '../../src/objects/index.js';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

/**
 * Node management through the real CLI and daemons, on one cluster for the file: A inits,
 * B joins as a worker, C as a manager.
 */
let a: DaemonHome;
let b: DaemonHome;
let c: DaemonHome;
let aAddr: string;
let managerToken: string;

async function rows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  expect(ls.code, ls.stderr).toBe(0);
  return ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as NodeRow);
}

async function inspect(home: DaemonHome, ref: string): Promise<Node> {
  const res = await home.cli('node', 'inspect', ref);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as Node[])[0]!;
}

async function info(home: DaemonHome): Promise<{ nodeId: string; localNodeState: string; isManager: boolean; nodeCertExpiryMs: number; dispatcherHeartbeatPeriodMs: number; autolockManagers: boolean }> {
  const res = await home.cli('info', '--format', 'json');
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Awaited<ReturnType<typeof info>>;
}

/** Polls an async condition; the deadline only guards against a hang. */
async function eventually(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  // A node in the middle of a role change may refuse a call for a moment: that is "not yet".
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function certOf(home: DaemonHome): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(home.dataRoot, 'certificates', 'swarm-node.crt'), 'utf8'));
}

beforeAll(async () => {
  [a, b, c] = await Promise.all([newHome(), newHome(), newHome()]);
  await Promise.all([a.start(['--node-name', 'nm-a']), b.start(['--node-name', 'nm-b']), c.start(['--node-name', 'nm-c'])]);
  aAddr = `127.0.0.1:${await freePort()}`;
  const init = await a.cli('init', '--advertise-addr', aAddr, '--listen-addr', aAddr);
  expect(init.code, init.stderr).toBe(0);
  const workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
  managerToken = (await a.cli('join-token', '-q', 'manager')).stdout.trim();
  const bj = await b.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.2', aAddr);
  expect(bj.code, bj.stderr + b.log).toBe(0);
  const cAddr = `127.0.0.3:${await freePort()}`;
  const cj = await c.cli('join', '--token', managerToken, '--advertise-addr', cAddr, '--listen-addr', cAddr, aAddr);
  expect(cj.code, cj.stderr + c.log).toBe(0);
}, 120_000);

afterAll(cleanupAll);

describe('node update', () => {
  it('sets availability and labels, from any manager', async () => {
    const res = await c.cli('node', 'update', '--availability', 'drain', '--label-add', 'zone=a', '--label-add', 'ssd', 'nm-b');
    expect(res.code, res.stderr).toBe(0);
    const node = await inspect(a, 'nm-b');
    expect(res.stdout.trim()).toBe(node.id);
    expect(node.spec.availability).toBe('DRAIN');
    expect(node.spec.annotations.labels).toEqual({ zone: 'a', ssd: '' });
    expect((await a.cli('node', 'update', '--label-rm', 'ssd', '--availability', 'active', 'nm-b')).code).toBe(0);
    const after = await inspect(c, 'nm-b');
    expect(after.spec.annotations.labels).toEqual({ zone: 'a' });
    expect(after.spec.availability).toBe('ACTIVE');
  }, 60_000);

  it('refuses a bad availability, a bad label and removing a missing label, changing nothing', async () => {
    const before = await inspect(a, 'nm-b');
    for (const args of [['--availability', 'sleep'], ['--label-add', '=v'], ['--label-rm', 'nope'], ['--label-add', 'x=1', '--label-rm', 'nope']]) {
      const res = await a.cli('node', 'update', ...args, 'nm-b');
      expect(errorCode(res), `${args.join(' ')}: ${res.stderr}`).toBe('SWARM_INVALID_OPTION');
    }
    expect(errorCode(await a.cli('node', 'update', '--availability', 'pause', 'no-such-node'))).toBe('STORE_NOT_FOUND');
    expect((await inspect(a, 'nm-b')).spec).toEqual(before.spec);
  }, 60_000);
});

describe('node ps', () => {
  it('prints Docker\'s columns, and no tasks while no service exists', async () => {
    const res = await a.cli('node', 'ps');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split(/\s{3,}/)).toEqual(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS']);
    const quiet = await a.cli('node', 'ps', '-q', 'nm-b', 'nm-c');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(errorCode(await a.cli('node', 'ps', 'no-such-node'))).toBe('STORE_NOT_FOUND');
  }, 60_000);
});

describe('update and ca', () => {
  it('changes the cluster spec; refuses autolock and bad durations, changing nothing', async () => {
    const res = await c.cli('update', '--cert-expiry', '48h', '--dispatcher-heartbeat', '7s');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Swarm updated.');
    const after = await info(a);
    expect(after.nodeCertExpiryMs).toBe(48 * 3_600_000);
    expect(after.dispatcherHeartbeatPeriodMs).toBe(7_000);
    expect(errorCode(await a.cli('update', '--autolock=true'))).toBe('AUTOLOCK_UNSUPPORTED');
    expect(errorCode(await a.cli('update', '--cert-expiry', '30m'))).toBe('SWARM_INVALID_OPTION');
    expect(errorCode(await a.cli('update', '--cert-expiry', '72h', '--dispatcher-heartbeat', 'soon'))).toBe('SWARM_INVALID_OPTION');
    expect(errorCode(await a.cli('update'))).toBe('CLI_USAGE');
    expect(await info(c)).toMatchObject({ nodeCertExpiryMs: 48 * 3_600_000, dispatcherHeartbeatPeriodMs: 7_000, autolockManagers: false });
    const off = await a.cli('update', '--autolock=false');
    expect(off.code, off.stderr).toBe(0);
  }, 60_000);

  it('prints the root CA certificate every node trusts', async () => {
    const res = await c.cli('ca');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe((await readFile(join(a.dataRoot, 'certificates', 'swarm-root-ca.crt'), 'utf8')).trim());
  }, 60_000);

  it('refuses the CLI of a worker', async () => {
    for (const args of [['update', '--cert-expiry', '72h'], ['ca'], ['node', 'update', '--availability', 'drain', 'self'], ['node', 'ps'], ['node', 'rm', 'nm-c']]) {
      expect(errorCode(await b.cli(...args)), args.join(' ')).toBe('SWARM_NOT_MANAGER');
    }
  }, 60_000);
});

describe('node rm', () => {
  it('refuses a manager ("demote it first"), changing nothing', async () => {
    const res = await a.cli('node', 'rm', 'nm-c');
    expect(errorCode(res), res.stderr).toBe('NODE_IS_MANAGER');
    expect(await rows(a)).toHaveLength(3);
  }, 60_000);

  it('removes a worker; every manager then refuses its certificate, also after a restart', async () => {
    const bId = (await info(b)).nodeId;
    const bRow = (await rows(a)).find((r) => r.ID === bId)!;
    if (bRow.Status === 'Ready') {
      const refused = await a.cli('node', 'rm', 'nm-b');
      expect(errorCode(refused), refused.stderr).toBe('NODE_NOT_DOWN');
      expect(await rows(a)).toHaveLength(3);
    }
    const res = await c.cli('node', 'rm', '--force', 'nm-b');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe('nm-b');
    expect((await rows(a)).map((r) => r.ID)).not.toContain(bId);

    const certs = join(b.dataRoot, 'certificates');
    const material = {
      rootsPem: await readFile(join(certs, 'swarm-root-ca.crt'), 'utf8'),
      certChainPem: await readFile(join(certs, 'swarm-node.crt'), 'utf8'),
      keyPem: await readFile(join(certs, 'swarm-node.key'), 'utf8'),
    };
    const clusterId = new X509Certificate(material.certChainPem).subject.match(/O=(\w+)/)![1]!;
    const renewWithB = async (target: string): Promise<string> => {
      const provider = new MemoryCertificateProvider(material);
      const trust = trustBundleFromPem(material.rootsPem);
      const { NodeCaClient } = loadControlProto();
      const client = new NodeCaClient(target, createNodeChannelCredentials(provider, { clusterId, trust: () => trust }, provider), { ...NODE_CHANNEL_OPTIONS });
      try {
        const { csrPem } = await createNodeKeyAndCsr();
        await callUnary(client, 'RenewNodeCertificate', { csr: csrPem }, 20_000, target);
        return 'accepted';
      } catch (err) {
        return isTsswarmError(err) ? err.code : String(err);
      } finally {
        client.close();
      }
    };
    const cAddr = (await rows(a)).length > 0 ? (await inspect(a, 'nm-c')).managerStatus!.addr : '';
    expect(await renewWithB(aAddr)).toBe('CA_CERT_REMOVED');
    expect(await renewWithB(cAddr)).toBe('CA_CERT_REMOVED');
    expect(await a.stop('SIGTERM')).toBe(0);
    await a.start(['--node-name', 'nm-a']);
    await eventually(async () => (await a.cli('node', 'ls')).code === 0, 'A to serve again');
    expect(await renewWithB(aAddr)).toBe('CA_CERT_REMOVED');
  }, 120_000);
});

describe('node demote and promote', () => {
  it('refuses to demote the last manager, changing nothing', async () => {
    // Two managers (A, C): demote C, then A would be the last one.
    const res = await a.cli('node', 'demote', 'nm-c');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('demoted');
    await eventually(async () => !(await info(c)).isManager, 'C to become a worker', 60_000);
    await eventually(async () => (await certOf(c)).subject.includes('OU=swarm-worker'), 'C to hold a worker certificate');
    const list = await rows(a);
    expect(list.find((r) => r.Hostname === 'nm-c')).toMatchObject({ ManagerStatus: '' });
    const last = await a.cli('node', 'demote', 'nm-a');
    expect(errorCode(last), last.stderr).toBe('DEMOTE_LAST_MANAGER');
    expect((await info(a)).isManager).toBe(true);
    expect(errorCode(await c.cli('node', 'ls'))).toBe('SWARM_NOT_MANAGER');
    // Raft IDs are node IDs: promoting a former manager again is refused (leave + join first).
    const again = await a.cli('node', 'promote', 'nm-c');
    expect(errorCode(again), again.stderr).toBe('PROMOTE_FORMER_MANAGER');
    expect((await inspect(a, 'nm-c')).spec.desiredRole).toBe('WORKER');
    expect((await info(c)).isManager).toBe(false);
  }, 120_000);

  it('promotes a worker: it renews its certificate as a manager and joins Raft, no restart', async () => {
    const d = await newHome();
    await d.start(['--node-name', 'nm-d']);
    const workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
    const dPort = await freePort();
    const joined = await d.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.4', '--listen-addr', `127.0.0.4:${dPort}`, aAddr);
    expect(joined.code, joined.stderr).toBe(0);
    const res = await a.cli('node', 'promote', 'nm-d');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('promoted');
    await eventually(async () => (await info(d)).isManager, 'D to become a manager', 60_000);
    expect((await certOf(d)).subject).toContain('OU=swarm-manager');
    await eventually(async () => (await rows(d)).find((r) => r.Hostname === 'nm-d')?.ManagerStatus === 'Reachable', 'D to be a Raft member');
    expect((await a.cli('node', 'promote', 'nm-d')).stdout).toContain('already a manager');
    // Back to one manager for the leave tests: demote D (A keeps the quorum alone).
    expect((await a.cli('node', 'demote', 'nm-d')).code).toBe(0);
    await eventually(async () => !(await info(d)).isManager, 'D to become a worker');
  }, 180_000);
});

describe('leave', () => {
  it('refuses a manager without --force; a worker leaves, is inactive again and Down for the managers', async () => {
    const refused = await a.cli('leave');
    expect(errorCode(refused), refused.stderr).toBe('LEAVE_MANAGER_REFUSED');
    expect((await info(a)).localNodeState).toBe('active');
    // C was demoted above: it leaves as a worker.
    expect((await info(c)).isManager).toBe(false);
    const res = await c.cli('leave');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Node left the swarm.');
    expect((await info(c)).localNodeState).toBe('inactive');
    await expect(readFile(join(c.dataRoot, 'certificates', 'swarm-node.crt'))).rejects.toThrow();
    expect(errorCode(await c.cli('leave'))).toBe('SWARM_NOT_INITIALIZED');
    // Its session is gone: once its heartbeats are missed the managers list it Down.
    await eventually(async () => (await rows(a)).find((r) => r.Hostname === 'nm-c')?.Status === 'Down', 'the managers to list C Down', 120_000);
    // It can join again, with a new node ID.
    const workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
    const again = await c.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.3', aAddr);
    expect(again.code, again.stderr).toBe(0);
  }, 240_000);

  it('leaves the last manager with --force, which erases the swarm here', async () => {
    const res = await a.cli('leave', '--force');
    expect(res.code, res.stderr).toBe(0);
    expect((await info(a)).localNodeState).toBe('inactive');
  }, 60_000);
});
