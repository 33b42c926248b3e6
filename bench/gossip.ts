/**
 * Gossip benchmark (not a test: nothing here is asserted). With the LAN defaults (200 ms
 * gossip interval, fanout 3, 1 s probe interval):
 * - N = 100 and N = 1000 simulated nodes (virtual clock, 1-5 ms latency): time until 99.99%
 *   of nodes know a new table entry, bytes per second each node sends, and for N = 100 the
 *   time until all nodes mark a killed node dead and the false deaths at 10% packet loss;
 * - 20 real processes on 127.46.2.1-20:7946 (UDP + TCP, AES-256-GCM): the same spread time,
 *   in real time.
 *
 *   npm run bench:gossip          (GOSSIP_BENCH_TRIALS=<n> for more trials per figure)
 */
import { randomBytes } from 'node:crypto';
import { resolveGossipConfig } from '../src/gossip/config.js';
import { formCluster, measureDetection, measureFalsePositives, measureSpread } from '../src/gossip/sim/measure.js';
import { GossipProcess } from '../src/gossip/standalone/gossip-process.js';

const TRIALS = Number(process.env.GOSSIP_BENCH_TRIALS ?? 5);
const config = resolveGossipConfig({});
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');

function simulated(n: number): { spread: number; detect: number | undefined } {
  const t0 = performance.now();
  const sim = formCluster(n, config, 1000 + n);
  const s = measureSpread(sim, TRIALS);
  console.log(`N=${n}: 99.99% know a new entry after ${fmt(s.trialsMs)} ms (mean ${mean(s.trialsMs).toFixed(0)})`);
  console.log(`N=${n}: bytes sent per node per second: mean ${s.bytesPerSecondMean.toFixed(0)}, max ${s.bytesPerSecondMax.toFixed(0)} (sealed packets and streams)`);
  let detect: number | undefined;
  if (n <= 100) {
    const d = measureDetection(sim, TRIALS);
    detect = mean(d);
    console.log(`N=${n}: all nodes mark a killed node dead after ${fmt(d)} ms (mean ${detect.toFixed(0)}, max ${Math.max(...d).toFixed(0)})`);
  }
  console.log(`N=${n}: simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s of wall time`);
  return { spread: mean(s.trialsMs), detect };
}

function falsePositives(): number {
  const minutes = 10;
  const sim = formCluster(100, config, 77);
  const r = measureFalsePositives(sim, 0.1, minutes * 60_000);
  console.log(`N=100 at 10% packet loss for ${minutes} simulated minutes: ${r.falseDead} live nodes declared dead (${r.suspicions} suspect events, all refuted)`);
  return r.falseDead;
}

async function real20(): Promise<number> {
  const count = 20;
  const port = 7946;
  const key = randomBytes(32).toString('hex');
  const addr = (i: number): string => `127.46.2.${i + 1}`;
  const procs = Array.from({ length: count }, (_, i) =>
    new GossipProcess({ id: `r${i + 1}`, addr: addr(i), port, keys: [key], seeds: i === 0 ? [] : [`${addr(0)}:${port}`], networks: ['net1'], profile: 'lan' }),
  );
  const killAll = (): void => procs.forEach((p) => p.child?.kill('SIGKILL'));
  process.once('exit', killAll);
  try {
    for (const p of procs) p.start();
    await Promise.all(procs.map((p) => p.ready));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const views = await Promise.all(procs.map((p) => p.members()));
      if (views.every((v) => v.filter((m) => m.state === 'alive').length === count)) break;
      if (Date.now() > deadline) throw new Error('20 real nodes did not converge within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const trials: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const keyName = `real-${t}`;
      const writer = procs[t % count]!;
      const others = procs.filter((p) => p !== writer);
      const putAt = await writer.request<number>('put', { network: 'net1', table: 'endpoint_table', key: keyName, value: `v${t}` });
      const seenAt = (p: GossipProcess): number | undefined =>
        p.events.find((e) => e.event.kind === 'table' && e.event.key === keyName && e.event.action === 'create')?.at;
      const end = Date.now() + 30_000;
      while (others.some((p) => seenAt(p) === undefined)) {
        if (Date.now() > end) throw new Error(`${keyName} did not reach all 20 real nodes`);
        await new Promise((r) => setTimeout(r, 20));
      }
      trials.push(Math.max(...others.map((p) => seenAt(p)!)) - putAt);
    }
    console.log(`20 processes on 127.46.2.1-20:${port}: all know a new entry after ${fmt(trials)} ms (mean ${mean(trials).toFixed(0)})`);
    return mean(trials);
  } finally {
    await Promise.all(procs.map((p) => p.kill9()));
    process.removeListener('exit', killAll);
  }
}

async function main(): Promise<void> {
  console.log(`gossip bench: LAN defaults (gossip ${config.gossipIntervalMs} ms, fanout ${config.gossipNodes}, probe ${config.probeIntervalMs} ms), ${TRIALS} trials per figure`);
  const n100 = simulated(100);
  const n1000 = simulated(1000);
  const fp = falsePositives();
  const r20 = await real20();
  console.log(
    `gossip: n100_spread=${n100.spread.toFixed(0)} n1000_spread=${n1000.spread.toFixed(0)} n100_detect=${n100.detect!.toFixed(0)} false_positives=${fp} real20_spread=${r20.toFixed(0)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
