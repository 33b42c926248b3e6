/**
 * Raft benchmark (`npm run bench:raft`): three members as separate processes on 127.0.0.1-3
 * with fsync on, driven by C concurrent proposers of 256-byte commands (closed loop: each
 * proposer sends its next command when the previous one is acknowledged), then failover:
 * SIGKILL the leader while probes keep proposing to every survivor, and time until a new
 * leader has committed an entry.
 *
 * Environment: TSSWARM_BENCH_SECONDS (measured seconds per C, default 10),
 * TSSWARM_BENCH_WARMUP (seconds, default 2), TSSWARM_BENCH_FAILOVERS (rounds, default 5),
 * TSSWARM_BENCH_RAFT_PORT (default 2377; a free port is used if it is taken),
 * TSSWARM_BENCH_KEEP=1 (keep the temp dir with the members' logs, for a post-mortem).
 * The last line is: raft: <commits/s at C=64> commits/s p50=<ms> p99=<ms> c1_p50=<ms> failover=<ms>
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemberProcess, pickPort, waitForLeader } from '../src/manager/raft/standalone/member-process.js';
import { RaftClient, memberStatus } from '../src/manager/raft/standalone/raft-client.js';

const SECONDS = Number(process.env.TSSWARM_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.TSSWARM_BENCH_WARMUP ?? 2);
const FAILOVERS = Number(process.env.TSSWARM_BENCH_FAILOVERS ?? 5);
const COMMAND_BYTES = 256;
/** Proposers share this many client connections (one Propose stream each), as the managers'
 * own forwarding does: many concurrent writes multiplexed on few streams. */
const CONNECTIONS = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface LoadResult {
  commitsPerSec: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** C closed-loop proposers for warmup + measured seconds; latencies of the measured part only. */
async function runLoad(addrs: string[], concurrency: number): Promise<LoadResult> {
  const clients = Array.from({ length: Math.min(CONNECTIONS, concurrency) }, () => new RaftClient(addrs, { timeoutMs: 10_000 }));
  const payload = Buffer.alloc(COMMAND_BYTES - 16, 0x61);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + WARMUP * 1000;
  const end = measureFrom + SECONDS * 1000;
  let seq = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const client = clients[w % clients.length]!;
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        try {
          await client.propose(`b${w}-${seq++}`, payload);
          const t1 = performance.now();
          if (t0 >= measureFrom && t1 <= end) latencies.push(t1 - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  return {
    commitsPerSec: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    errors,
  };
}

/**
 * One failover: probes propose continuously to every survivor (pinned, no redirects); the
 * time is from the SIGKILL until a probe's write is acknowledged in a newer term.
 */
async function measureFailover(members: MemberProcess[]): Promise<number> {
  const addrs = members.map((m) => m.spec.addr);
  const leader = await waitForLeader(addrs);
  const victim = members.find((m) => m.spec.addr === leader.addr)!;
  const survivors = addrs.filter((a) => a !== victim.spec.addr);
  const probes = survivors.map((a) => new RaftClient([a], { followLeader: false, timeoutMs: 3_000 }));
  let killedAt = 0;
  let recoveredAt = 0;
  let stop = false;
  const loops = probes.map(async (probe, i) => {
    let n = 0;
    while (!stop) {
      try {
        const ack = await probe.propose(`f${i}-${n++}`, Buffer.alloc(64));
        const t = performance.now();
        if (killedAt > 0 && ack.term > leader.term && recoveredAt === 0) recoveredAt = t;
      } catch {
        await sleep(1);
      }
    }
  });
  await sleep(300);
  killedAt = performance.now();
  await victim.kill9();
  const deadline = killedAt + 15_000;
  while (recoveredAt === 0 && performance.now() < deadline) await sleep(5);
  stop = true;
  await Promise.all(loops);
  for (const p of probes) p.close();
  // Bring the victim back and let it catch up before the next round.
  victim.start();
  await waitForLeader(addrs, 30_000);
  const caughtUpBy = performance.now() + 30_000;
  while (performance.now() < caughtUpBy) {
    const st = await Promise.all(addrs.map((a) => memberStatus(a, 1_000).catch(() => undefined)));
    const commit = Math.max(...st.map((s) => s?.commit ?? 0));
    if (st.every((s) => s !== undefined && s.applied >= commit - 10)) break;
    await sleep(100);
  }
  if (recoveredAt === 0) throw new Error('no new leader committed within 15 s of the kill');
  return recoveredAt - killedAt;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tsswarm-bench-raft-'));
  let members: MemberProcess[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.stop()));
    if (process.env.TSSWARM_BENCH_KEEP === '1') console.log(`kept data dirs and member logs in ${root}`);
    else await rm(root, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const port = await pickPort('TSSWARM_BENCH_RAFT_PORT');
    const specs = [1, 2, 3].map((i) => ({
      id: `m${i}`,
      addr: `127.0.0.${i}:${port}`,
      dataDir: join(root, `m${i}`),
      logFile: join(root, `m${i}.log`),
      // fsync stays on (the default); IDs are not recorded so snapshots stay small.
      extraArgs: ['--no-record-ids'],
    }));
    const peers = specs.map((s) => `${s.id}=${s.addr}`).join(',');
    members = specs.map((s) => new MemberProcess(s, peers));
    for (const m of members) m.start();
    const addrs = specs.map((s) => s.addr);
    await waitForLeader(addrs);
    console.log(`raft bench: 3 members on 127.0.0.1-3:${port}, fsync on, ${COMMAND_BYTES}-byte commands, ${WARMUP}s warm-up + ${SECONDS}s per run`);

    const results = new Map<number, LoadResult>();
    for (const c of [1, 64]) {
      const r = await runLoad(addrs, c);
      results.set(c, r);
      console.log(
        `C=${c}: ${r.commitsPerSec.toFixed(0)} commits/s p50=${r.p50.toFixed(2)}ms p99=${r.p99.toFixed(2)}ms max=${r.max.toFixed(2)}ms errors=${r.errors}`,
      );
    }

    const failovers: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const ms = await measureFailover(members);
      failovers.push(ms);
      console.log(`failover ${i + 1}: ${ms.toFixed(0)} ms`);
    }
    failovers.sort((a, b) => a - b);
    const failoverP50 = percentile(failovers, 50);
    console.log(`failover: p50=${failoverP50.toFixed(0)}ms max=${failovers[failovers.length - 1]!.toFixed(0)}ms over ${failovers.length} kills`);

    const c64 = results.get(64)!;
    const c1 = results.get(1)!;
    console.log(
      `raft: ${c64.commitsPerSec.toFixed(0)} commits/s p50=${c64.p50.toFixed(2)} p99=${c64.p99.toFixed(2)} c1_p50=${c1.p50.toFixed(2)} failover=${failoverP50.toFixed(0)}`,
    );
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
