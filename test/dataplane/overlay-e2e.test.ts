import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import type { Dataplane } from '../../src/dataplane/dataplane.js';
import { EMPTY_DESIRED, type DesiredState, type SandboxSpec } from '../../src/dataplane/model.js';
import { testbedDown, testbedUp } from '../../src/testbed/testbed.js';
import type { TestbedState } from '../../src/testbed/state.js';
import { NET_A, NET_B, sandbox } from './fixtures.js';
import { collect, dataplaneFor, desiredStates, inNs, killStarted, nsSnapshot, sandboxPath, startListener, track } from './helpers.js';

/**
 * Three virtual hosts, two overlay networks, programmed by real dataplanes from desired
 * states as the control plane will hand them. Everything runs in the test bed's namespaces.
 */
const TB = 't-overlay';
const ROOT = '/run/tsswarm-test';

const placement = new Map<string, SandboxSpec[]>([
  ['h1', [sandbox('a1', [{ net: NET_A, host: 2 }]), sandbox('b1', [{ net: NET_B, host: 2 }])]],
  ['h2', [sandbox('a2', [{ net: NET_A, host: 3 }])]],
  ['h3', [sandbox('a3', [{ net: NET_A, host: 4 }]), sandbox('b3', [{ net: NET_B, host: 4 }])]],
]);

describe.sequential('overlay networks across 3 virtual hosts (real kernel)', () => {
  let tb: TestbedState;
  let planes: Map<string, Dataplane>;
  let desired: Map<string, DesiredState>;
  const before = new Map<string, string>();

  const host = (n: string) => tb.hosts.find((h) => h.name === n) ?? expect.fail(`no host ${n}`);
  const sb = (hostName: string, id: string) => sandboxPath(host(hostName), id);

  beforeAll(async () => {
    await testbedDown(TB, ROOT);
    tb = await testbedUp({ name: TB, nodes: 3, root: ROOT });
    for (const h of tb.hosts) before.set(h.name, await nsSnapshot(h.nsPath));
    planes = new Map(tb.hosts.map((h) => [h.name, dataplaneFor(h)]));
    desired = desiredStates(tb, [NET_A, NET_B], placement);
    for (const h of tb.hosts) {
      const rep = await planes.get(h.name)?.reconciler.reconcile(desired.get(h.name) ?? EMPTY_DESIRED);
      expect(rep?.errors).toEqual([]);
    }
  }, 120_000);

  afterAll(async () => {
    try {
      killStarted();
      await testbedDown(TB, ROOT);
    } finally {
      closeScriptSession();
    }
  });

  it('pings and talks TCP between sandboxes on different hosts over network A', async () => {
    const ping = await inNs(sb('h1', 'a1'), ['ping', '-c', '2', '-W', '5', '10.0.1.3']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const ping3 = await inNs(sb('h2', 'a2'), ['ping', '-c', '2', '-W', '5', '10.0.1.4']);
    expect(ping3.code, ping3.stdout + ping3.stderr).toBe(0);

    const server = await startListener(sb('h2', 'a2'), '10.0.1.3', 5000);
    const done = collect(server);
    const client = await inNs(sb('h1', 'a1'), ['nc', '-N', '-w', '5', '10.0.1.3', '5000'], 'hello over the overlay\n');
    expect(client.code, client.stderr).toBe(0);
    const got = await done;
    expect(got.stdout).toBe('hello over the overlay\n');
    expect(got.stderr).toContain('10.0.1.2'); // the peer is the sandbox itself: no NAT on the overlay
  });

  it('carries a 1422-byte payload with DF set; 1423 does not fit the overlay MTU of 1450', async () => {
    const fits = await inNs(sb('h1', 'a1'), ['ping', '-M', 'do', '-s', '1422', '-c', '2', '-W', '5', '10.0.1.3']);
    expect(fits.code, fits.stdout + fits.stderr).toBe(0);
    const tooBig = await inNs(sb('h1', 'a1'), ['ping', '-M', 'do', '-s', '1423', '-c', '1', '-W', '2', '10.0.1.3']);
    expect(tooBig.code).not.toBe(0);
    expect(tooBig.stdout + tooBig.stderr).toMatch(/mtu ?= ?1450/);
  });

  it('keeps network B apart from network A, while B works across hosts', async () => {
    const b = await inNs(sb('h1', 'b1'), ['ping', '-c', '2', '-W', '5', '10.0.2.4']);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    for (const target of ['10.0.1.2', '10.0.1.3', '10.0.1.4']) {
      const cross = await inNs(sb('h1', 'b1'), ['ping', '-c', '1', '-W', '1', target]);
      expect(cross.code, `b1 reached ${target}`).not.toBe(0);
    }
    const back = await inNs(sb('h3', 'a3'), ['ping', '-c', '1', '-W', '1', '10.0.2.4']);
    expect(back.code, 'a3 reached b3 (same host, other network)').not.toBe(0);
  });

  it('reaches the outside through docker_gwbridge, masqueraded to the host address', async () => {
    const outside = await startListener(tb.underlayNsPath, tb.outsideAddr, 6000);
    const done = collect(outside);
    const client = await inNs(sb('h1', 'a1'), ['nc', '-N', '-w', '5', tb.outsideAddr, '6000'], 'out\n');
    expect(client.code, client.stderr).toBe(0);
    const got = await done;
    expect(got.stdout).toBe('out\n');
    expect(got.stderr).toContain(`Connection received on ${host('h1').address} `);
  });

  it('allows no traffic between tasks across docker_gwbridge', async () => {
    const addrs = await inNs(sb('h1', 'b1'), ['ip', '-4', '-br', 'addr', 'show', 'eth1']);
    const gwAddr = /(\d+\.\d+\.\d+\.\d+)\/16/.exec(addrs.stdout)?.[1] ?? expect.fail(addrs.stdout);
    const p = await inNs(sb('h1', 'a1'), ['ping', '-c', '1', '-W', '1', gwAddr]);
    expect(p.code, `a1 reached b1 at ${gwAddr} over the gwbridge`).not.toBe(0);
  });

  it('makes no kernel change when reconciling the same state again, even reading all back', async () => {
    // A TCP connection opened before the (restarted) reconciles must carry data after them.
    const server = await startListener(sb('h2', 'a2'), '10.0.1.3', 5001);
    const received = collect(server);
    const client = track(spawn('nsenter', [`--net=${sb('h1', 'a1')}`, 'nc', '-N', '10.0.1.3', '5001'], { stdio: ['pipe', 'ignore', 'pipe'] }));
    const clientDone = new Promise<number | null>((r) => client.on('exit', (c) => r(c)));
    client.stdin.write('before\n');
    for (const h of tb.hosts) {
      const dp = planes.get(h.name) as Dataplane;
      const want = desired.get(h.name) as DesiredState;
      expect((await dp.reconciler.reconcile(want)).opCount).toBe(0);
      expect((await dp.reconciler.reconcile(want, { fullReadback: true })).opCount).toBe(0);
      // A restarted daemon: a new reconciler over the same kernel.
      expect((await dataplaneForRestart(h.name).reconciler.reconcile(want)).opCount).toBe(0);
    }
    // ...and the connections still work.
    client.stdin.end('after\n');
    expect(await clientDone).toBe(0);
    expect((await received).stdout).toBe('before\nafter\n');
    const ping = await inNs(sb('h1', 'a1'), ['ping', '-c', '1', '-W', '5', '10.0.1.3']);
    expect(ping.code).toBe(0);
  });

  it('removing everything leaves each host exactly as before', async () => {
    for (const h of tb.hosts) {
      const rep = await planes.get(h.name)?.reconciler.reconcile(EMPTY_DESIRED);
      expect(rep?.errors).toEqual([]);
      expect(await nsSnapshot(h.nsPath)).toBe(before.get(h.name));
      expect(await readdir(join(h.runDir, 'netns'))).toEqual([]);
    }
  });

  function dataplaneForRestart(name: string): Dataplane {
    return dataplaneFor(host(name));
  }
});
