/**
 * The whole node side of an overlay on the real kernel: two test bed hosts, each with its real
 * dataplane, DataplaneSandboxes and NodeNetworks over a real GossipNode (on loopback
 * 127.47.8.x, profile 'local'). Two tasks attached to one overlay network on different hosts
 * learn each other through gossip alone and ping over VXLAN; a release takes the peer's
 * forwarding entries away and leaves the hosts as they were.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeNetworks } from '../../src/daemon/node-networks.js';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import { GossipNode } from '../../src/gossip/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { TestbedHost, TestbedState } from '../../src/testbed/state.js';
import { testbedDown, testbedUp } from '../../src/testbed/testbed.js';
import { DataplaneSandboxes } from '../../src/worker/sandbox/dataplane-sandboxes.js';
import { dataplaneFor, inNs, nsSnapshot, sandboxPath } from '../dataplane/helpers.js';
import { until } from '../support/wait.js';
import { NET1, attach } from '../worker/sandbox/attachment-fixtures.js';

const TB = 'tsw-nnk';
const ROOT = '/run/tsswarm-test-node-networks-kernel';
const key = new Uint8Array(randomBytes(32));

interface Node {
  readonly host: TestbedHost;
  readonly sandboxes: DataplaneSandboxes;
  readonly networks: NodeNetworks;
  readonly gossip: GossipNode;
}

/** Polls an async condition; the deadline only guards against a hang. */
async function untilAsync(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.sequential('node networks on the real kernel (2 virtual hosts)', () => {
  let tb: TestbedState;
  const nodes: Node[] = [];
  const before = new Map<string, string>();

  beforeAll(async () => {
    await testbedDown(TB, ROOT);
    tb = await testbedUp({ name: TB, nodes: 2, root: ROOT });
    let seed: string | undefined;
    for (const [i, host] of tb.hosts.entries()) {
      before.set(host.name, await nsSnapshot(host.nsPath));
      const ref: { networks?: NodeNetworks } = {};
      const sandboxes = new DataplaneSandboxes(dataplaneFor(host), { compose: (l) => ref.networks!.compose(l) });
      const id = `nnk-${host.name}`;
      const networks = new NodeNetworks({ nodeId: id, vtep: host.address, sandboxes, logger: silentLogger() });
      ref.networks = networks;
      const ip = `127.47.8.${i + 1}`;
      const gossip = await GossipNode.start({ nodeId: id, bindAddr: ip, advertiseAddr: ip, port: 0, keys: [key], seeds: seed !== undefined ? [seed] : [], profile: 'local' });
      seed ??= gossip.advertiseAddr;
      networks.attach(gossip);
      nodes.push({ host, sandboxes, networks, gossip });
    }
  }, 120_000);

  afterAll(async () => {
    try {
      for (const n of nodes) {
        n.networks.close();
        await n.gossip.stop();
      }
      await testbedDown(TB, ROOT);
    } finally {
      closeScriptSession();
    }
  });

  it('lets two tasks on different hosts reach each other over the overlay, from gossip alone; a release withdraws the entries', async () => {
    const [n1, n2] = nodes;
    if (n1 === undefined || n2 === undefined) expect.fail('two nodes');
    const owner = { taskName: 'web.1.k1', serviceId: 'svc1', serviceName: 'web' };
    const sb1 = await n1.sandboxes.ensure('k1', { attachments: [attach(NET1, '10.0.1.5/24')], owner });
    const sb2 = await n2.sandboxes.ensure('k2', { attachments: [attach(NET1, '10.0.1.6/24')], owner: { ...owner, taskName: 'web.2.k2' } });
    expect(sb1).toBe(sandboxPath(n1.host, 'k1'));

    const fdbOf = async (n: Node) => (await inNs(join(n.host.runDir, 'netns', 'ov-net1'), ['bridge', 'fdb', 'show', 'dev', 'vxlan4097'])).stdout;
    await untilAsync(async () => (await fdbOf(n1)).includes(`02:42:0a:00:01:06 dst ${n2.host.address}`), 'host 1 has the FDB entry of task k2');
    await untilAsync(async () => (await fdbOf(n2)).includes(`02:42:0a:00:01:05 dst ${n1.host.address}`), 'host 2 has the FDB entry of task k1');
    const ping = await inNs(sb1, ['ping', '-c', '2', '-W', '5', '10.0.1.6']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const back = await inNs(sb2, ['ping', '-c', '2', '-W', '5', '10.0.1.5']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(n1.networks.networkView('net1')?.endpoints.map((e) => `${e.taskId} ${e.vtep}`)).toEqual([`k1 ${n1.host.address}`, `k2 ${n2.host.address}`]);

    const neighOf = async (n: Node) => (await inNs(join(n.host.runDir, 'netns', 'ov-net1'), ['ip', 'neigh', 'show', 'dev', 'vxlan4097'])).stdout;
    expect(await neighOf(n1)).toContain('10.0.1.6 lladdr 02:42:0a:00:01:06 PERMANENT');
    await n2.sandboxes.release('k2');
    // (The bridge may still hold what it learned on its vxlan port; the static entries go.)
    await untilAsync(async () => !(await fdbOf(n1)).includes(`02:42:0a:00:01:06 dst ${n2.host.address}`), 'host 1 drops the FDB entry of task k2');
    expect(await neighOf(n1)).not.toContain('10.0.1.6');
    await until(() => n2.gossip.networks().length === 0, 'host 2 leaves net1 in gossip');
    await n1.sandboxes.release('k1');
    for (const n of nodes) {
      expect(await readdir(join(n.host.runDir, 'netns'))).toEqual([]);
      expect(await nsSnapshot(n.host.nsPath)).toBe(before.get(n.host.name));
    }
  }, 120_000);
});
