/**
 * A restarted daemon cuts no overlay connection: the remote endpoints the previous daemon
 * programmed (kept in the exec root) stay in the kernel beside the live ones until gossip has
 * had its catch-up time (a live peer in the network for a while, or at most a minute), then
 * only what gossip knows remains. Real DataplaneSandboxes and
 * reconciler over the recording fake kernel, a real GossipNode on loopback, time by hand.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeNetworks } from '../../src/daemon/node-networks.js';
import { withCarried } from '../../src/daemon/node-networks-state.js';
import { FakeKernel } from '../../src/dataplane/kernel/fake-kernel.js';
import { parseDataplaneConfig } from '../../src/dataplane/model.js';
import { Reconciler } from '../../src/dataplane/reconciler.js';
import { GossipNode } from '../../src/gossip/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { DataplaneSandboxes } from '../../src/worker/sandbox/dataplane-sandboxes.js';
import { until } from '../support/wait.js';
import { NET1, attach } from '../worker/sandbox/attachment-fixtures.js';

class HandClock implements Clock {
  private t = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return { id };
  }
  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  advance(ms: number): void {
    this.t += ms;
    // Timers that fire may set new ones that are due already (a 0 ms debounce): run those too.
    for (;;) {
      const due = [...this.timers].filter(([, timer]) => timer.at <= this.t).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) return;
      this.timers.delete(due[0]);
      due[1].fn();
    }
  }
}

const CARRIED = { network: NET1.id, ip: '10.0.1.9', mac: '02:42:0a:00:01:09', vtep: '10.77.0.9' };
const CARRIED_ENTRIES = ['fdb vxlan4097 02:42:0a:00:01:09 10.77.0.9', 'neigh vxlan4097 10.0.1.9 02:42:0a:00:01:09'];

const dirs: string[] = [];
const gossips: GossipNode[] = [];
afterEach(async () => {
  await Promise.all(gossips.splice(0).map((g) => g.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A carry file, as a previous daemon left it, in a temp dir the test removes. */
function carryFileWith(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsswarm-t-carry-'));
  dirs.push(dir);
  const file = join(dir, 'overlay-remotes.json');
  writeFileSync(file, content);
  return file;
}

function setup(carryFile: string): { kernel: FakeKernel; sandboxes: DataplaneSandboxes; networks: NodeNetworks; clock: HandClock } {
  const kernel = new FakeKernel();
  const clock = new HandClock();
  const cfg = parseDataplaneConfig({ dataPathAddr: '10.77.0.1', runDir: '/run/tsswarm-test-node-networks-carry' });
  const ref: { networks?: NodeNetworks } = {};
  const sandboxes = new DataplaneSandboxes({ config: cfg, reconciler: new Reconciler(kernel, cfg) }, { compose: (l) => ref.networks!.compose(l) });
  const networks = new NodeNetworks({
    nodeId: 'carry-node1', vtep: '10.77.0.1', sandboxes, logger: silentLogger(), clock, carryFile, config: { carrySettleMs: 3_000, carryMaxMs: 60_000, carryCheckMs: 500, refreshDebounceMs: 0 },
  });
  ref.networks = networks;
  return { kernel, sandboxes, networks, clock };
}

function overlayEntries(kernel: FakeKernel): string[] {
  const dump = kernel.dump().split('\n');
  const i = dump.indexOf(`ns ov-${NET1.id}`);
  if (i < 0) return [];
  const out: string[] = [];
  for (const l of dump.slice(i + 1)) {
    if (!l.startsWith('  ')) break;
    if (l.startsWith('  neigh ') || l.startsWith('  fdb ')) out.push(l.trim());
  }
  return out.sort();
}

describe('remote endpoints carried over a daemon restart', () => {
  it('keeps the previous daemon\'s remote endpoints until gossip has had its catch-up time', async () => {
    const file = carryFileWith(JSON.stringify([CARRIED]));
    const { kernel, sandboxes, networks, clock } = setup(file);
    try {
      await sandboxes.ensure('task1', { attachments: [attach(NET1, '10.0.1.5/24')] });
      expect(overlayEntries(kernel)).toEqual(CARRIED_ENTRIES);

      // Gossip appears (alone: it knows no other endpoint); the carried entry stays for now.
      const g = await GossipNode.start({ nodeId: 'carry-node1', bindAddr: '127.47.7.1', advertiseAddr: '127.47.7.1', port: 0, keys: [new Uint8Array(randomBytes(32))], seeds: [], profile: 'local' });
      gossips.push(g);
      networks.attach(g);
      await sandboxes.refresh();
      expect(overlayEntries(kernel)).toEqual(CARRIED_ENTRIES);

      // No peer in the network shows up: the carried entry stays until the longest wait.
      clock.advance(30_000);
      await sandboxes.refresh();
      expect(overlayEntries(kernel)).toEqual(CARRIED_ENTRIES);
      clock.advance(30_000);
      await until(() => overlayEntries(kernel).length === 0, 'carried entries removed');
      // What the next daemon would carry: nothing any more.
      await until(() => readFileSync(file, 'utf8') === '[]', 'the carry file emptied');
    } finally {
      networks.close();
    }
  });

  it('replaces the carried endpoints by gossip\'s a little after a live peer shows up in the network', async () => {
    const file = carryFileWith(JSON.stringify([CARRIED]));
    const { kernel, sandboxes, networks, clock } = setup(file);
    try {
      await sandboxes.ensure('task1', { attachments: [attach(NET1, '10.0.1.5/24')] });
      const key = [new Uint8Array(randomBytes(32))];
      const g1 = await GossipNode.start({ nodeId: 'carry-node1', bindAddr: '127.47.7.2', advertiseAddr: '127.47.7.2', port: 0, keys: key, seeds: [], profile: 'local' });
      gossips.push(g1);
      networks.attach(g1);
      const g2 = await GossipNode.start({ nodeId: 'carry-node2', bindAddr: '127.47.7.3', advertiseAddr: '127.47.7.3', port: 0, keys: key, seeds: [g1.advertiseAddr], profile: 'local' });
      gossips.push(g2);
      g2.joinNetwork(NET1.id);
      await until(() => g1.networkMembers(NET1.id).some((m) => m.id === 'carry-node2'), 'node 2 seen in the network');

      clock.advance(500); // the peer is noticed
      await sandboxes.refresh();
      expect(overlayEntries(kernel)).toEqual(CARRIED_ENTRIES);
      clock.advance(3_000); // and has had its settle time
      await until(() => overlayEntries(kernel).length === 0, 'carried entries removed');
    } finally {
      networks.close();
    }
  });

  it('starts from nothing when the carry file is unreadable', async () => {
    const file = carryFileWith('{"torn');
    const { kernel, sandboxes, networks } = setup(file);
    try {
      await sandboxes.ensure('task1', { attachments: [attach(NET1, '10.0.1.5/24')] });
      expect(overlayEntries(kernel)).toEqual([]);
    } finally {
      networks.close();
    }
  });

  it('lets a live endpoint win over a carried one with the same network and address', () => {
    const live = { ...CARRIED, mac: '02:42:0a:00:01:99', vtep: '10.77.0.3' };
    const other = { ...CARRIED, ip: '10.0.1.10' };
    expect(withCarried([live], [CARRIED, other])).toEqual([live, other]);
  });
});
