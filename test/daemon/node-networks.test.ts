/**
 * NodeNetworks with three real GossipNodes on loopback (127.47.6.x, profile 'local') and, per
 * node, the real DataplaneSandboxes over the reconciler and the recording fake kernel: an
 * endpoint of node 1 reaches node 2's overlay (same network) as a permanent neighbour + FDB
 * entry and never node 3 (not in it); a release withdraws it; a stopped gossip node's entries
 * are withdrawn from the others and come back when it restarts; gossip that starts after the
 * tasks gets their networks and entries, also through the daemon's NodeGossip hook.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { GOSSIP_KEY_SUBSYSTEM } from '../../src/daemon/network-key-rotation.js';
import { NodeGossip, type GossipSessionEvents } from '../../src/daemon/node-gossip.js';
import { NodeNetworks } from '../../src/daemon/node-networks.js';
import { FakeKernel } from '../../src/dataplane/kernel/fake-kernel.js';
import { parseDataplaneConfig } from '../../src/dataplane/model.js';
import { Reconciler } from '../../src/dataplane/reconciler.js';
import { GossipNode } from '../../src/gossip/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { SessionEvents } from '../../src/worker/agent/index.js';
import { DataplaneSandboxes } from '../../src/worker/sandbox/dataplane-sandboxes.js';
import { until } from '../support/wait.js';
import { NET1, NET2, attach } from '../worker/sandbox/attachment-fixtures.js';

const key = new Uint8Array(randomBytes(32));
const gossips: GossipNode[] = [];
const nets: NodeNetworks[] = [];

interface TestNode {
  readonly id: string;
  readonly host: string;
  readonly vtep: string;
  readonly kernel: FakeKernel;
  readonly sandboxes: DataplaneSandboxes;
  readonly networks: NodeNetworks;
  gossip?: GossipNode;
}

function makeNode(i: number): TestNode {
  const id = `nn-node${i}`;
  const vtep = `10.77.0.${i}`;
  const kernel = new FakeKernel();
  const cfg = parseDataplaneConfig({ dataPathAddr: vtep, runDir: `/run/tsswarm-test-node-networks-${i}` });
  const ref: { networks?: NodeNetworks } = {};
  const sandboxes = new DataplaneSandboxes({ config: cfg, reconciler: new Reconciler(kernel, cfg) }, { compose: (l) => ref.networks!.compose(l) });
  const networks = new NodeNetworks({ nodeId: id, vtep, sandboxes, logger: silentLogger() });
  ref.networks = networks;
  nets.push(networks);
  return { id, host: `127.47.6.${i}`, vtep, kernel, sandboxes, networks };
}

async function startGossip(n: TestNode, seeds: string[], port = 0): Promise<GossipNode> {
  const g = await GossipNode.start({ nodeId: n.id, bindAddr: n.host, advertiseAddr: n.host, port, keys: [key], seeds, profile: 'local' });
  gossips.push(g);
  n.gossip = g;
  n.networks.attach(g);
  return g;
}

/** The node's kernel entries (neighbour and FDB) of an overlay, as text. */
function entries(n: TestNode, network: string): string[] {
  const dump = n.kernel.dump().split('\n');
  const i = dump.indexOf(`ns ov-${network}`);
  if (i < 0) return [];
  const out: string[] = [];
  for (const l of dump.slice(i + 1)) {
    if (!l.startsWith('  ')) break;
    if (l.startsWith('  neigh ') || l.startsWith('  fdb ')) out.push(l.trim());
  }
  return out;
}

const T1 = ['neigh vxlan4097 10.0.1.5 02:42:0a:00:01:05', 'fdb vxlan4097 02:42:0a:00:01:05 10.77.0.1'];
const T2 = ['neigh vxlan4097 10.0.1.6 02:42:0a:00:01:06', 'fdb vxlan4097 02:42:0a:00:01:06 10.77.0.2'];
const owner = (name: string) => ({ taskName: name, serviceId: 'svc1', serviceName: 'web' });
const sorted = (xs: string[]) => [...xs].sort();

/** The networkKeys event of a dispatcher session, by hand. */
class KeySession implements GossipSessionEvents {
  private readonly keyListeners = new Set<SessionEvents['networkKeys']>();
  on<E extends 'networkKeys' | 'managers'>(event: E, listener: SessionEvents[E]): () => void {
    if (event !== 'networkKeys') return () => undefined;
    const l = listener as SessionEvents['networkKeys'];
    this.keyListeners.add(l);
    return () => this.keyListeners.delete(l);
  }
  sendKeys(): void {
    for (const l of this.keyListeners) l([{ subsystem: GOSSIP_KEY_SUBSYSTEM, algorithm: 'AES_256_GCM', key, lamportTime: 1 }]);
  }
}
const nodeGossips: NodeGossip[] = [];

afterEach(async () => {
  for (const n of nets.splice(0)) n.close();
  await Promise.all(nodeGossips.splice(0).map((g) => g.stop()));
  await Promise.all(gossips.splice(0).map((g) => g.stop()));
});

describe('node networks over real gossip', () => {
  it('publishes endpoints to the network\'s peers only, withdraws them on release, and shows the network view', async () => {
    const [a, b, c] = [makeNode(1), makeNode(2), makeNode(3)];
    const ga = await startGossip(a, []);
    await startGossip(b, [ga.advertiseAddr]);
    await startGossip(c, [ga.advertiseAddr]);
    await until(() => [a, b, c].every((n) => n.gossip!.members().filter((m) => m.state === 'alive').length === 3), 'three alive members');

    await a.sandboxes.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')], owner: owner('web.1.t1') });
    await b.sandboxes.ensure('t2', { attachments: [attach(NET1, '10.0.1.6/24')], owner: owner('web.2.t2') });
    await c.sandboxes.ensure('t3', { attachments: [attach(NET2, '10.0.2.7/24')], owner: owner('web.3.t3') });

    await until(() => sorted(entries(b, 'net1')).join() === sorted(T1).join(), 'node 2 programs node 1\'s endpoint');
    await until(() => sorted(entries(a, 'net1')).join() === sorted(T2).join(), 'node 1 programs node 2\'s endpoint');
    // Node 3 is not in net1: it has no such overlay, no view of it, and the others' net2 is none of theirs.
    expect(entries(c, 'net1')).toEqual([]);
    expect(c.networks.networkView('net1')).toBeUndefined();
    expect(c.gossip!.networks()).toEqual(['net2']);
    expect(entries(c, 'net2')).toEqual([]);
    expect(a.kernel.dump()).not.toContain('ov-net2');

    const view = a.networks.networkView('net1');
    expect(view?.localNodeId).toBe('nn-node1');
    expect(view?.peers.map((p) => p.nodeId)).toEqual(['nn-node1', 'nn-node2']);
    expect(view?.peers.map((p) => p.addr)).toEqual([a.gossip!.advertiseAddr, b.gossip!.advertiseAddr]);
    expect(view?.endpoints).toEqual([
      { taskId: 't1', taskName: 'web.1.t1', serviceId: 'svc1', serviceName: 'web', ip: '10.0.1.5', mac: '02:42:0a:00:01:05', vtep: '10.77.0.1', nodeId: 'nn-node1' },
      { taskId: 't2', taskName: 'web.2.t2', serviceId: 'svc1', serviceName: 'web', ip: '10.0.1.6', mac: '02:42:0a:00:01:06', vtep: '10.77.0.2', nodeId: 'nn-node2' },
    ]);

    // The release withdraws node 1's endpoint from node 2, and node 1 leaves the network.
    await a.sandboxes.release('t1');
    await until(() => entries(b, 'net1').length === 0, 'node 2 drops node 1\'s endpoint');
    expect(a.gossip!.networks()).toEqual([]);
    expect(a.networks.networkView('net1')).toBeUndefined();
    await until(() => b.networks.networkView('net1')?.peers.length === 1, 'node 2 sees node 1 leave net1');
    expect(b.networks.networkView('net1')?.endpoints.map((e) => e.taskId)).toEqual(['t2']);
  });

  it('withdraws a stopped gossip node\'s endpoints from the others and brings them back when it restarts', async () => {
    const [a, b] = [makeNode(4), makeNode(5)];
    const ga = await startGossip(a, []);
    await startGossip(b, [ga.advertiseAddr]);
    await a.sandboxes.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')], owner: owner('web.1.t1') });
    await b.sandboxes.ensure('t2', { attachments: [attach(NET1, '10.0.1.6/24')], owner: owner('web.2.t2') });
    const t1At = ['neigh vxlan4097 10.0.1.5 02:42:0a:00:01:05', 'fdb vxlan4097 02:42:0a:00:01:05 10.77.0.4'];
    const t2At = ['neigh vxlan4097 10.0.1.6 02:42:0a:00:01:06', 'fdb vxlan4097 02:42:0a:00:01:06 10.77.0.5'];
    await until(() => sorted(entries(b, 'net1')).join() === sorted(t1At).join(), 'node 5 programs node 4\'s endpoint');
    await until(() => sorted(entries(a, 'net1')).join() === sorted(t2At).join(), 'node 4 programs node 5\'s endpoint');

    // Node 4's gossip dies (no graceful leave): node 5 withdraws its entries once it is dead.
    const port = Number(ga.advertiseAddr.split(':')[1]);
    a.networks.attach(undefined);
    await ga.stop();
    await until(() => entries(b, 'net1').length === 0, 'node 5 withdraws the dead node\'s endpoint', 30_000);
    expect(b.networks.networkView('net1')?.peers.map((p) => p.nodeId)).toEqual(['nn-node5']);
    expect(b.networks.networkView('net1')?.endpoints.map((e) => e.taskId)).toEqual(['t2']);
    // Without gossip node 4's kernel keeps what it had.
    expect(sorted(entries(a, 'net1'))).toEqual(sorted(t2At));

    // Gossip comes back on the same address: the node's network and entry are applied again.
    await startGossip(a, [b.gossip!.advertiseAddr], port);
    await until(() => sorted(entries(b, 'net1')).join() === sorted(t1At).join(), 'node 5 programs node 4\'s endpoint again', 30_000);
    await until(() => sorted(entries(a, 'net1')).join() === sorted(t2At).join(), 'node 4 relearns node 5\'s endpoint', 30_000);
    expect(b.networks.networkView('net1')?.peers.map((p) => p.nodeId)).toEqual(['nn-node4', 'nn-node5']);
  }, 120_000);

  it('applies the tasks\' networks and entries to gossip that starts after them', async () => {
    const [a, b] = [makeNode(6), makeNode(7)];
    await a.sandboxes.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')], owner: owner('web.1.t1') });
    await b.sandboxes.ensure('t2', { attachments: [attach(NET1, '10.0.1.6/24')], owner: owner('web.2.t2') });
    expect(a.networks.networkView('net1')).toBeUndefined();
    const ga = await startGossip(a, []);
    await startGossip(b, [ga.advertiseAddr]);
    await until(() => entries(b, 'net1').some((l) => l.includes('10.77.0.6')), 'node 7 programs node 6\'s endpoint');
    await until(() => entries(a, 'net1').some((l) => l.includes('10.77.0.7')), 'node 6 programs node 7\'s endpoint');
    expect(a.networks.networkView('net1')?.endpoints.map((e) => e.taskId)).toEqual(['t1', 't2']);
  });

  it('gets the daemon\'s GossipNode from NodeGossip once the session brings keys, and loses it when gossip stops', async () => {
    const a = makeNode(8);
    await a.sandboxes.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')], owner: owner('web.1.t1') });
    const session = new KeySession();
    const g = new NodeGossip({ nodeId: a.id, advertiseHost: a.host, session, logger: silentLogger(), port: 0, profile: 'local' });
    nodeGossips.push(g);
    const seen: Array<GossipNode | undefined> = [];
    g.onNode((node) => {
      seen.push(node);
      a.networks.attach(node);
    });
    expect(seen).toEqual([]);
    session.sendKeys();
    await until(() => a.networks.networkView('net1') !== undefined, 'the node networks work through the started gossip');
    expect(a.networks.networkView('net1')?.endpoints.map((e) => e.taskId)).toEqual(['t1']);
    expect(seen[0]).toBe(g.gossipNode());
    await g.stop();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBeUndefined();
    expect(a.networks.networkView('net1')).toBeUndefined();
  });
});
