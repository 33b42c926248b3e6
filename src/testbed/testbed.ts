import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TsswarmError } from '../errors/index.js';
import { formatCidr, intToIp, parseCidr } from '../dataplane/ipv4.js';
import { createNamespaces, removeNamespaceTree } from '../dataplane/kernel/netns.js';
import { runCommand, runScript, type ScriptUnit } from '../dataplane/kernel/script-runner.js';
import { readState, removeState, writeState, type TestbedHost, type TestbedState } from './state.js';

/**
 * A virtual multi-host test bed on one machine: N hosts, each a network namespace with eth0
 * on an underlay bridge that lives in a namespace of its own (which also plays "the outside
 * world"). Everything lives under ROOT/NAME, so `down` removes it all and nothing touches the
 * machine's own namespace.
 */

export const DEFAULT_ROOT = '/run/tsswarm-testbed';

export interface TestbedOptions {
  readonly name: string;
  readonly nodes: number;
  /** Underlay subnet; hosts get .1 .. .N, the underlay namespace the last usable address. */
  readonly subnet?: string;
  /** Underlay MTU in bytes (Ethernet's 1500 by default). */
  readonly mtu?: number;
  readonly root?: string;
}

/** A documentation address (TEST-NET-3) held by the underlay namespace: "outside the hosts". */
export const OUTSIDE_ADDR = '203.0.113.1';
const NAME = /^[a-z0-9][a-z0-9-]{0,19}$/;

export async function testbedUp(opts: TestbedOptions): Promise<TestbedState> {
  if (!NAME.test(opts.name)) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'testbed', problems: `name ${opts.name}: use [a-z0-9-], at most 20` });
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 200) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'testbed', problems: `nodes ${opts.nodes}: 1..200` });
  }
  const root = opts.root ?? DEFAULT_ROOT;
  if ((await readState(root, opts.name)) !== undefined) {
    throw new TsswarmError('TESTBED_EXISTS', { name: opts.name });
  }
  const net = parseCidr(opts.subnet ?? '10.77.0.0/24');
  const size = 2 ** (32 - net.len);
  if (opts.nodes > size - 3) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'testbed', problems: `subnet ${formatCidr(net)} too small for ${opts.nodes} hosts` });
  }
  const mtu = opts.mtu ?? 1500;
  const dir = join(root, opts.name);
  const nsDir = join(dir, 'netns');
  const gateway = intToIp(net.base + size - 2);
  const hosts: TestbedHost[] = Array.from({ length: opts.nodes }, (_, i) => ({
    name: `h${i + 1}`,
    nsPath: join(nsDir, `h${i + 1}`),
    address: intToIp(net.base + i + 1),
    runDir: join(dir, `h${i + 1}`),
  }));
  const state: TestbedState = {
    name: opts.name,
    root,
    subnet: formatCidr(net),
    mtu,
    underlayNsPath: join(nsDir, 'underlay'),
    gateway,
    outsideAddr: OUTSIDE_ADDR,
    hosts,
    createdAt: new Date().toISOString(),
  };
  try {
    await writeState(state);
    await createNamespaces(nsDir, ['underlay', ...hosts.map((h) => h.name)]);
    const len = net.len;
    // First the veths (one batch), then each namespace's settings (in parallel).
    const created = await runScript([
      {
        argv: ['ip', '-batch', '@FILE'],
        file: hosts
          .map((h) => `link add ${h.name} netns ${state.underlayNsPath} mtu ${mtu} type veth peer name eth0 netns ${h.nsPath} mtu ${mtu}`)
          .join('\n'),
      },
    ]);
    const units: ScriptUnit[] = [];
    const ul = [
      'link set lo up',
      `link add br0 mtu ${mtu} type bridge`,
      'link set br0 up',
      `addr add ${gateway}/${len} dev br0`,
      `addr add ${OUTSIDE_ADDR}/32 dev lo`,
      ...hosts.map((h) => `link set ${h.name} master br0 up`),
    ];
    units.push({ nsPath: state.underlayNsPath, argv: ['ip', '-batch', '@FILE'], file: ul.join('\n') });
    for (const h of hosts) {
      const lines = ['link set lo up', 'link set eth0 up', `addr add ${h.address}/${len} dev eth0`, `route add default via ${gateway} dev eth0`];
      units.push({ nsPath: h.nsPath, argv: ['ip', '-batch', '@FILE'], file: lines.join('\n') });
    }
    const res = [...created, ...(await runScript(units))];
    res.forEach((r) => {
      if (r.code !== 0) throw new TsswarmError('KERNEL_OP_FAILED', { op: 'testbed up', object: opts.name, reason: r.stderr.trim() });
    });
    return state;
  } catch (e) {
    await testbedDown(opts.name, root).catch(() => undefined);
    throw e;
  }
}

/** Removes a test bed: every namespace under its directory (also those its daemons made). */
export async function testbedDown(name: string, root: string = DEFAULT_ROOT): Promise<boolean> {
  const st = await readState(root, name);
  await removeNamespaceTree(join(root, name));
  await removeState(root, name);
  await rmdir(root).catch(() => undefined); // only when no other test bed is left in it
  return st !== undefined;
}

/** argv that runs cmd inside a host's namespace. */
export function execArgv(host: TestbedHost | { nsPath: string }, cmd: readonly string[]): string[] {
  return ['nsenter', `--net=${host.nsPath}`, ...cmd];
}

export function hostByName(state: TestbedState, name: string): TestbedHost {
  const h = state.hosts.find((x) => x.name === name || x.address === name);
  if (h === undefined) throw new TsswarmError('TESTBED_NOT_FOUND', { name: `${state.name}/${name}` });
  return h;
}

/**
 * Drops this percentage of the packets a host sends on eth0 (nft numgen), for fault tests;
 * 0 removes the rule.
 */
export async function setLoss(host: TestbedHost, percent: number): Promise<void> {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'testbed', problems: `loss ${percent}: 0..100 percent` });
  }
  const script =
    percent === 0
      ? 'table inet tsswarm_testbed {}\ndelete table inet tsswarm_testbed\n'
      : 'table inet tsswarm_testbed {}\ndelete table inet tsswarm_testbed\ntable inet tsswarm_testbed {\n' +
        '  chain loss {\n    type filter hook postrouting priority 0; policy accept;\n' +
        // numgen yields 0..99, so "< 100" is out of its range: 100 % is a plain drop.
        `    oifname "eth0" ${percent === 100 ? '' : `numgen random mod 100 < ${percent} `}drop\n  }\n}\n`;
  const res = await runCommand(['nsenter', `--net=${host.nsPath}`, 'nft', '-f', '-'], script);
  if (res.code !== 0) throw new TsswarmError('KERNEL_OP_FAILED', { op: 'nft loss', object: host.name, reason: res.stderr.trim() });
}
