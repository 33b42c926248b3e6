import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import type { SandboxSpec } from '../../src/dataplane/model.js';
import { testbedDown, testbedUp } from '../../src/testbed/testbed.js';
import type { TestbedState } from '../../src/testbed/state.js';
import { compiledPath } from '../support/compiled.js';
import { NET_A, sandbox } from './fixtures.js';
import { dataplaneFor, desiredStates, inNs, sandboxPath } from './helpers.js';

/**
 * A process reconciling host h1 is killed -9 (with its helper shells) midway, after the links
 * are created and before they are configured; a restarted reconciler then completes the job.
 */
const TB = 't-crash';
const ROOT = '/run/tsswarm-test';

describe('crash in the middle of a reconcile (real kernel)', () => {
  let tb: TestbedState;
  const child = { js: compiledPath(new URL('../../src/dataplane/reconcile-once.ts', import.meta.url)) };
  let tmp: string;

  beforeAll(async () => {
    await testbedDown(TB, ROOT);
    [tb, tmp] = await Promise.all([
      testbedUp({ name: TB, nodes: 2, root: ROOT }),
      mkdtemp(join(tmpdir(), 'tsswarm-crash-')),
    ]);
  }, 120_000);

  afterAll(async () => {
    try {
      await testbedDown(TB, ROOT);
      if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    } finally {
      closeScriptSession();
    }
  });

  it('completes on the next reconcile after kill -9 between stages', async () => {
    const [h1, h2] = tb.hosts as [TestbedState['hosts'][0], TestbedState['hosts'][0]];
    const many: SandboxSpec[] = Array.from({ length: 20 }, (_, i) => sandbox(`c${i}`, [{ net: NET_A, host: 10 + i }]));
    const placement = new Map([
      ['h1', many],
      ['h2', [sandbox('peer', [{ net: NET_A, host: 200 }])]],
    ]);
    const desired = desiredStates(tb, [NET_A], placement);
    const d1 = desired.get('h1');
    const d2 = desired.get('h2');
    if (d1 === undefined || d2 === undefined) throw new Error('no desired state');
    expect((await dataplaneFor(h2).reconciler.reconcile(d2)).errors).toEqual([]);

    const file = join(tmp, 'h1.json');
    await writeFile(file, JSON.stringify({ config: { dataPathAddr: h1.address, runDir: h1.runDir, hostNsPath: h1.nsPath }, desired: d1 }));
    const proc = spawn(process.execPath, [child.js, file], {
      detached: true, // its own process group: the kill takes its shells and ip with it
      stdio: ['ignore', 'pipe', 'pipe'],
      // TMPDIR: the killed process cannot remove its own temp dir; afterAll removes this one.
      env: { ...process.env, TSSWARM_DATAPLANE_PAUSE_AFTER_STAGE: '1', TMPDIR: tmp },
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => proc.on('exit', (_c, sig) => r(sig)));
    let out = '';
    let err = '';
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('paused after stage 1')) resolve();
      });
      proc.on('exit', () => reject(new Error(`child exited early: ${out} ${err}`)));
    });
    process.kill(-(proc.pid as number), 'SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // Midway: namespaces and links exist, but nothing is configured, so nothing works yet.
    const dead = await inNs(sandboxPath(h1, 'c0'), ['ping', '-c', '1', '-W', '1', '10.0.1.200']);
    expect(dead.code).not.toBe(0);

    const restarted = dataplaneFor(h1);
    const rep = await restarted.reconciler.reconcile(d1);
    expect(rep.errors).toEqual([]);
    expect(rep.opCount).toBeGreaterThan(0);
    expect(rep.reached.sandboxes).toHaveLength(20);
    for (const id of ['c0', 'c19']) {
      // -w: a new veth passes traffic only once the kernel's linkwatch has seen its carrier (up
      // to ~1 s), so ping until the first reply, for at most 5 s.
      const ping = await inNs(sandboxPath(h1, id), ['ping', '-c', '1', '-w', '5', '10.0.1.200']);
      expect(ping.code, `${id}: ${ping.stdout}`).toBe(0);
    }
    expect((await dataplaneFor(h1).reconciler.reconcile(d1)).opCount).toBe(0);
  });
});
