import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../src/dataplane/kernel/netns.js';
import { closeScriptSession, runCommand } from '../../src/dataplane/kernel/script-runner.js';
import { listStates } from '../../src/testbed/state.js';
import { execArgv, hostByName, setLoss, testbedDown, testbedUp } from '../../src/testbed/testbed.js';

const ROOT = '/run/tsswarm-test';
const NAME = 't-testbed';

describe('test bed (real kernel)', () => {
  afterAll(async () => {
    try {
      await testbedDown(NAME, ROOT);
    } finally {
      closeScriptSession();
    }
  });

  it('builds hosts that reach each other and the outside, drops packets on demand, and leaves nothing behind', async () => {
    await testbedDown(NAME, ROOT);
    const tb = await testbedUp({ name: NAME, nodes: 2, root: ROOT, subnet: '10.78.0.0/24', mtu: 1400 });
    expect(tb.hosts.map((h) => h.address)).toEqual(['10.78.0.1', '10.78.0.2']);
    expect((await listStates(ROOT)).map((s) => s.name)).toContain(NAME);
    await expect(testbedUp({ name: NAME, nodes: 1, root: ROOT })).rejects.toMatchObject({ code: 'TESTBED_EXISTS' });

    const h1 = hostByName(tb, 'h1');
    // -w: new veths pass traffic once linkwatch has seen their carrier (up to ~1 s).
    const ping = (target: string) => runCommand(execArgv(h1, ['ping', '-c', '1', '-w', '5', target]));
    expect((await ping('10.78.0.2')).code).toBe(0);
    expect((await ping(tb.outsideAddr)).code).toBe(0);
    const mtu = await runCommand(execArgv(h1, ['ip', '-j', 'link', 'show', 'eth0']));
    expect(JSON.parse(mtu.stdout)[0].mtu).toBe(1400);

    await setLoss(h1, 100);
    expect((await ping('10.78.0.2')).code).not.toBe(0);
    await setLoss(h1, 0);
    expect((await ping('10.78.0.2')).code).toBe(0);
    expect(() => hostByName(tb, 'h7')).toThrow(expect.objectContaining({ code: 'TESTBED_NOT_FOUND' }));

    expect(await testbedDown(NAME, ROOT)).toBe(true);
    expect(await mountsUnder(`${ROOT}/${NAME}`)).toEqual([]);
    expect(existsSync(`${ROOT}/${NAME}`)).toBe(false);
    expect((await listStates(ROOT)).map((s) => s.name)).not.toContain(NAME);
  });
});
