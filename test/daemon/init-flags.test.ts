import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

/**
 * Bad init flags through the real CLI and daemon: each is refused with SWARM_INVALID_OPTION
 * (or the CLI's own parse error) and leaves the node exactly as it was: inactive, no
 * certificates, no Raft log. One daemon serves every case; a final good init proves it.
 */
let home: DaemonHome;
let port: number;

beforeAll(async () => {
  home = await newHome();
  await home.start();
  port = await freePort();
});

afterAll(cleanupAll);

const base = (): string[] => ['init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`];

const cases: Array<[string, string[]]> = [
  ['data path port below 1024', ['--data-path-port', '80']],
  ['data path port above 49151', ['--data-path-port', '50000']],
  ['data path port 0', ['--data-path-port', '0']],
  ['data path address not an IP', ['--data-path-addr', 'eth0x']],
  ['pool not a CIDR', ['--default-addr-pool', '10.0.0.0']],
  ['pool with host bits', ['--default-addr-pool', '10.0.0.1/8']],
  ['pool smaller than the mask length', ['--default-addr-pool', '10.0.0.0/26', '--default-addr-pool-mask-length', '24']],
  ['mask length out of range', ['--default-addr-pool-mask-length', '31']],
  ['heartbeat not a duration', ['--dispatcher-heartbeat', '5 seconds']],
  ['heartbeat too short', ['--dispatcher-heartbeat', '10ms']],
  ['cert expiry below 1h', ['--cert-expiry', '59m']],
  ['cert expiry not a duration', ['--cert-expiry', '90d']],
  ['advertise address unspecified', ['--advertise-addr', '0.0.0.0']],
  ['listen port out of range', ['--listen-addr', '127.0.0.1:70000']],
  ['autolock (unsupported)', ['--autolock']],
];

async function assertUnchanged(): Promise<void> {
  const info = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { localNodeState: string };
  expect(info.localNodeState).toBe('inactive');
  expect((await readdir(home.dataRoot)).sort()).toEqual(['daemon.pid', 'state.json']);
}

describe('tsswarm init refuses bad flag values and changes nothing', () => {
  it.each(cases)('%s', async (_name, flags) => {
    const res = await home.cli(...base(), ...flags);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Error: invalid value .+ for /);
    expect(errorCode(res)).toBe('SWARM_INVALID_OPTION');
    await assertUnchanged();
  });

  it('refuses a non-numeric port at the command line', async () => {
    const res = await home.cli(...base(), '--data-path-port', 'abc');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/not a whole number/);
    await assertUnchanged();
  });

  it('undoes an init whose listen address is taken (the Raft server cannot bind)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const res = await home.cli(...base());
      expect(res.code).not.toBe(0);
      expect(errorCode(res)).toBe('TRANSPORT_UNREACHABLE');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    await assertUnchanged();
  });

  it('accepts good values and stores them in the cluster', async () => {
    const res = await home.cli(
      ...base(), '--data-path-port', '4800', '--default-addr-pool', '10.20.0.0/16', '--default-addr-pool', '10.30.0.0/16',
      '--default-addr-pool-mask-length', '26', '--dispatcher-heartbeat', '7s', '--cert-expiry', '720h', '--data-path-addr', '127.0.0.1',
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const info = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      dataPathPort: 4800, defaultAddrPools: ['10.20.0.0/16', '10.30.0.0/16'], subnetSize: 26,
      dispatcherHeartbeatPeriodMs: 7000, nodeCertExpiryMs: 720 * 3600 * 1000, dataPathAddr: '127.0.0.1',
    });
    const text = (await home.cli('info')).stdout;
    expect(text).toMatch(/^ {2}Heartbeat Period: 7s$/m);
    expect(text).toMatch(/^ {2}Expiry Duration: 720h0m0s$/m);
  });
});
