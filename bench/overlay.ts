import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLinuxDataplane } from '../src/dataplane/dataplane.js';
import { intToIp } from '../src/dataplane/ipv4.js';
import { closeScriptSession, runCommand } from '../src/dataplane/kernel/script-runner.js';
import type { DesiredState, NetworkSpec, RemoteEndpoint, SandboxSpec } from '../src/dataplane/model.js';
import { sandboxNs } from '../src/dataplane/naming.js';
import type { TestbedHost } from '../src/testbed/state.js';
import { testbedDown, testbedUp } from '../src/testbed/testbed.js';

/**
 * The overlay benchmark (`npm run bench:overlay`), on a 3-host test bed:
 *   underlay   iperf3 host h1 -> host h2 over the underlay bridge
 *   overlay    iperf3 sandbox on h1 -> sandbox on h2 over VXLAN (same duration)
 *   handmade   the reference: iperf3 h1 -> h2 over a plain kernel VXLAN device made by hand in
 *              the two host namespaces (same MTU, no bridge, no veth, no namespace hop): what
 *              the kernel's VXLAN itself costs on this machine, printed on its own line
 *   (alternated BENCH_ROUNDS times, default 3, of BENCH_SECONDS, default 5; means printed;
 *   iperf3 leaves the first second, TCP's slow start, out)
 *   reconcile_cold      host h3 programmed from nothing: 200 sandboxes on 2 networks, 1,000 remotes
 *   reconcile_one_peer  then one more remote endpoint, BENCH_ONE_PEER_ADDS times (default 7): the median
 * and prints one line:
 *   overlay: underlay=<Gbit/s> overlay=<Gbit/s> ratio=<o/u> reconcile_cold=<ms> reconcile_one_peer=<ms>
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Underlay/overlay pairs; the printed figures are their means. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAME = 'bench-ov';
const ROOT = '/run/tsswarm-bench';

function net(id: string, third: number, vni: number): NetworkSpec {
  return { id, vni, subnet: `10.${third}.0.0/16`, gateway: `10.${third}.0.1`, encrypted: false, ingress: false };
}

function macOf(ip: string): string {
  return `02:42:${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`;
}

function endpointSandbox(id: string, n: NetworkSpec, hostPart: number): SandboxSpec {
  const ip = intToIp(((10 << 24) | (Number(n.subnet.split('.')[1]) << 16) | hostPart) >>> 0);
  return { id, endpoints: [{ network: n.id, ip, mac: macOf(ip) }] };
}

async function iperf(serverNs: string, clientNs: string, addr: string): Promise<number> {
  // --forceflush: iperf3 buffers its stdout when it is not a terminal.
  const server = spawn('nsenter', [`--net=${serverNs}`, 'iperf3', '-s', '-1', '--forceflush', '-B', addr], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Server listening')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`iperf3 server exited (${code}): ${out}`)));
    });
    const res = await runCommand(['nsenter', `--net=${clientNs}`, 'iperf3', '-c', addr, '-t', String(SECONDS), '-O', '1', '-J']);
    if (res.code !== 0) throw new Error(`iperf3 client failed: ${res.stdout} ${res.stderr}`);
    const j = JSON.parse(res.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second / 1e9;
  } finally {
    server.kill('SIGKILL');
  }
}

/** The hand-made reference VXLAN: one device per host namespace, its peer as static remote. */
const HANDMADE = { vni: 9999, dev: 'vxhand', addr: (n: number) => `192.168.250.${n}` } as const;

async function handmadeVxlan(h1: TestbedHost, h2: TestbedHost): Promise<void> {
  for (const [me, peer, n] of [[h1, h2, 1], [h2, h1, 2]] as const) {
    const script =
      `ip link add ${HANDMADE.dev} type vxlan id ${HANDMADE.vni} dstport 4789 local ${me.address} remote ${peer.address} nolearning noudpcsum && ` +
      `ip link set ${HANDMADE.dev} mtu 1450 && ip addr add ${HANDMADE.addr(n)}/24 dev ${HANDMADE.dev} && ip link set ${HANDMADE.dev} up`;
    const res = await runCommand(['nsenter', `--net=${me.nsPath}`, 'sh', '-c', script]);
    if (res.code !== 0) throw new Error(`hand-made VXLAN on ${me.name}: ${res.stderr}`);
  }
}

function sbPath(h: TestbedHost, id: string): string {
  return join(h.runDir, 'netns', sandboxNs(id));
}

async function main(): Promise<void> {
  await testbedDown(NAME, ROOT);
  const tb = await testbedUp({ name: NAME, nodes: 3, root: ROOT });
  try {
    const [h1, h2, h3] = tb.hosts as [TestbedHost, TestbedHost, TestbedHost];
    // BENCH_SKIP_IPERF=1 measures only the reconciles (for profiling them).
    const skipIperf = process.env.BENCH_SKIP_IPERF === '1';

    const A = net('benchA', 1, 4097);
    const B = net('benchB', 2, 4098);
    const s1 = endpointSandbox('s1', A, 2);
    const s2 = endpointSandbox('s2', A, 3);
    const ep = (s: SandboxSpec, h: TestbedHost): RemoteEndpoint => {
      const e = s.endpoints[0];
      if (e === undefined) throw new Error('no endpoint');
      return { ...e, vtep: h.address };
    };
    const d1: DesiredState = { networks: [A], sandboxes: [s1], remotes: [ep(s2, h2)] };
    const d2: DesiredState = { networks: [A], sandboxes: [s2], remotes: [ep(s1, h1)] };
    for (const [h, d] of [[h1, d1], [h2, d2]] as const) {
      const rep = await createLinuxDataplane({ dataPathAddr: h.address, runDir: h.runDir, hostNsPath: h.nsPath }).reconciler.reconcile(d);
      if (rep.errors.length > 0) throw new Error(`reconcile ${h.name}: ${JSON.stringify(rep.errors)}`);
    }
    const s2ip = s2.endpoints[0]?.ip ?? '';
    // Both on the same, programmed hosts (the gwbridge's nft table turns on conntrack), and
    // alternated ROUNDS times so that load from elsewhere on the machine hits both alike.
    let underlay = 0;
    let overlay = 0;
    let handmade = 0;
    if (!skipIperf) await handmadeVxlan(h1, h2);
    for (let i = 0; i < ROUNDS && !skipIperf; i++) {
      underlay += (await iperf(h2.nsPath, h1.nsPath, h2.address)) / ROUNDS;
      handmade += (await iperf(h2.nsPath, h1.nsPath, HANDMADE.addr(2))) / ROUNDS;
      overlay += (await iperf(sbPath(h2, 's2'), sbPath(h1, 's1'), s2ip)) / ROUNDS;
    }
    if (skipIperf) [underlay, overlay, handmade] = [NaN, NaN, NaN];

    // reconcile_cold: 200 sandboxes (100 per network) and 1,000 remote endpoints (500 per network, 50 hosts).
    const sandboxes = Array.from({ length: 200 }, (_, i) => endpointSandbox(`t${i}`, i % 2 === 0 ? A : B, 10 + i));
    const remotes: RemoteEndpoint[] = Array.from({ length: 1000 }, (_, i) => {
      const n = i % 2 === 0 ? A : B;
      const s = endpointSandbox(`r${i}`, n, 1000 + i);
      const e = s.endpoints[0] as SandboxSpec['endpoints'][0];
      return { ...e, vtep: `10.77.1.${1 + (i % 50)}` };
    });
    const big: DesiredState = { networks: [A, B], sandboxes, remotes };
    const dp3 = createLinuxDataplane({ dataPathAddr: h3.address, runDir: h3.runDir, hostNsPath: h3.nsPath });
    let t0 = performance.now();
    const cold = await dp3.reconciler.reconcile(big);
    const coldMs = performance.now() - t0;
    if (cold.errors.length > 0) throw new Error(`cold reconcile: ${JSON.stringify(cold.errors.slice(0, 5))}`);

    // reconcile_one_peer: the median of ONE_PEER_ADDS successive adds of one new remote each
    // (one add is a few ms of work plus two netlink round trips: a single sample mostly
    // measures the machine's load at that moment).
    const adds = Number(process.env.BENCH_ONE_PEER_ADDS ?? 7);
    let current = remotes;
    const oneMsAll: number[] = [];
    let one = cold;
    for (let i = 0; i < adds; i++) {
      const extra = endpointSandbox(`r-extra${i}`, i % 2 === 0 ? A : B, 5000 + i);
      current = [...current, { ...(extra.endpoints[0] as SandboxSpec['endpoints'][0]), vtep: '10.77.1.99' }];
      const onePeer: DesiredState = { ...big, remotes: current };
      t0 = performance.now();
      one = await dp3.reconciler.reconcile(onePeer);
      oneMsAll.push(performance.now() - t0);
      if (one.errors.length > 0 || one.opCount !== 2) throw new Error(`one-peer reconcile: ${one.opCount} ops ${JSON.stringify(one.errors)}`);
    }
    const sorted = [...oneMsAll].sort((a, b) => a - b);
    const oneMs = sorted[Math.floor(sorted.length / 2)] ?? NaN;

    process.stderr.write(
      `cold: ${cold.opCount} ops, ${cold.reached.sandboxes.length} sandboxes, ${cold.reached.remotes} remotes, ` +
        `phases ${JSON.stringify(cold.phasesMs)}; one peer: ${one.opCount} ops, last phases ${JSON.stringify(one.phasesMs)}, ` +
        `all ms ${oneMsAll.map((x) => x.toFixed(1)).join(' ')}\n`,
    );
    const f = (x: number) => x.toFixed(2);
    process.stdout.write(`reference: handmade_vxlan=${f(handmade)} overlay_vs_handmade=${f(overlay / handmade)} handmade_vs_underlay=${f(handmade / underlay)}\n`);
    process.stdout.write(
      `overlay: underlay=${f(underlay)} overlay=${f(overlay)} ratio=${f(overlay / underlay)} ` +
        `reconcile_cold=${Math.round(coldMs)} reconcile_one_peer=${oneMs.toFixed(1)}\n`,
    );
  } finally {
    await testbedDown(NAME, ROOT);
    closeScriptSession();
  }
}

await main();
