import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import { testbedDown } from '../../src/testbed/testbed.js';
import { compiledPath } from '../support/compiled.js';

const run = promisify(execFile);
const ROOT = '/run/tsswarm-test';
const NAME = 't-cli';

/** `tsswarm cluster up|ls|exec|down`, each a separate process, as a user runs them. */
describe('tsswarm cluster (real kernel)', () => {
  const cli = { js: compiledPath(new URL('../../src/cli/main.ts', import.meta.url)) };
  const tsswarm = (...args: string[]) =>
    run(process.execPath, [cli.js, ...args], { encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    await testbedDown(NAME, ROOT);
  }, 120_000);

  afterAll(async () => {
    try {
      await testbedDown(NAME, ROOT);
    } finally {
      closeScriptSession();
    }
  });

  it('builds, lists, runs commands in and removes a virtual cluster', async () => {
    const up = await tsswarm('cluster', 'up', '--name', NAME, '--nodes', '2', '--root', ROOT);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('h2     10.77.0.2');
    expect(up.stdout).toContain('No daemons are started in the hosts yet');

    const again = await tsswarm('cluster', 'up', '--name', NAME, '--root', ROOT);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^Error: a test bed named t-cli already exists/);

    const ls = await tsswarm('cluster', 'ls', '--format', 'json', '--root', ROOT);
    const states = JSON.parse(ls.stdout) as { name: string; hosts: { address: string }[] }[];
    expect(states.find((s) => s.name === NAME)?.hosts.map((h) => h.address)).toEqual(['10.77.0.1', '10.77.0.2']);

    const ex = await tsswarm('cluster', 'exec', '--name', NAME, '--root', ROOT, 'h1', '--', 'ping', '-c', '1', '-w', '5', '10.77.0.2');
    expect(ex.code, ex.stdout + ex.stderr).toBe(0);
    const fails = await tsswarm('cluster', 'exec', '--name', NAME, '--root', ROOT, 'h2', '--', 'sh', '-c', 'exit 3');
    expect(fails.code).toBe(3);

    const down = await tsswarm('cluster', 'down', '--name', NAME, '--root', ROOT);
    expect(down.code, down.stderr).toBe(0);
    expect((await tsswarm('cluster', 'ls', '-q', '--root', ROOT)).stdout).not.toContain(NAME);
    expect((await tsswarm('cluster', 'down', '--name', NAME, '--root', ROOT)).code).toBe(1);
  });
});
