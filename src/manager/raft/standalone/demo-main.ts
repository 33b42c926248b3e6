/**
 * `npm run demo`: three managers' Raft as separate processes on 127.0.0.1-3, on this machine.
 * It writes through the leader, kills the leader with SIGKILL, keeps writing through the new
 * leader, restarts the killed member and shows that all three applied the same commands.
 * Everything it starts is stopped and its temp dir removed at the end (keep it with
 * TSSWARM_DEMO_KEEP=1 to read the members' logs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemberProcess, pickPort, waitForLeader } from './member-process.js';
import { RaftClient, memberApplied, memberStatus } from './raft-client.js';

const WRITES_PER_PHASE = 2_000;
const CONCURRENCY = 32;

async function write(client: RaftClient, prefix: string): Promise<number> {
  let next = 0;
  let acked = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WRITES_PER_PHASE) {
        const id = `${prefix}-${next++}`;
        await client.propose(id, Buffer.from(`set ${id}`));
        acked++;
      }
    }),
  );
  return acked;
}

async function show(members: MemberProcess[]): Promise<void> {
  for (const m of members) {
    if (!m.running) {
      console.log(`  ${m.spec.id} ${m.spec.addr.padEnd(16)} (killed)`);
      continue;
    }
    const [st, applied] = await Promise.all([memberStatus(m.spec.addr), memberApplied(m.spec.addr, false)]);
    console.log(
      `  ${st.id} ${m.spec.addr.padEnd(16)} ${st.role.padEnd(9)} term=${st.term} leader=${st.leaderId} applied=${applied.count} hash=${applied.hash}`,
    );
  }
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tsswarm-demo-'));
  const port = await pickPort('TSSWARM_DEMO_PORT');
  const specs = [1, 2, 3].map((i) => ({
    id: `m${i}`,
    addr: `127.0.0.${i}:${port}`,
    dataDir: join(root, `m${i}`),
    logFile: join(root, `m${i}.log`),
    extraArgs: [],
  }));
  const peers = specs.map((s) => `${s.id}=${s.addr}`).join(',');
  const members = specs.map((s) => new MemberProcess(s, peers));
  const addrs = specs.map((s) => s.addr);
  const client = new RaftClient(addrs, { timeoutMs: 10_000 });
  try {
    console.log(`Starting 3 managers (fsync on) on ${addrs.join(', ')}; data and logs in ${root}`);
    for (const m of members) m.start();
    const first = await waitForLeader(addrs);
    console.log(`Leader elected: ${first.id} in term ${first.term}`);

    let t = performance.now();
    const a = await write(client, 'before');
    console.log(`${a} writes committed and applied in ${(performance.now() - t).toFixed(0)} ms`);
    await show(members);

    const victim = members.find((m) => m.spec.id === first.id)!;
    console.log(`kill -9 the leader ${victim.spec.id}`);
    t = performance.now();
    await victim.kill9();
    const survivors = members.filter((m) => m !== victim).map((m) => m.spec.addr);
    const second = await waitForLeader(survivors);
    console.log(`New leader: ${second.id} in term ${second.term}, ${(performance.now() - t).toFixed(0)} ms after the kill`);
    const b = await write(client, 'after');
    console.log(`${b} more writes committed with one manager down`);

    console.log(`Restarting ${victim.spec.id}: it recovers from its own disk and catches up as a follower`);
    victim.start();
    await waitForLeader(addrs);
    const total = a + b;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const counts = await Promise.all(addrs.map((x) => memberApplied(x, false).catch(() => undefined)));
      if (counts.every((c) => c !== undefined && c.count >= total)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await show(members);
    const hashes = new Set((await Promise.all(addrs.map((x) => memberApplied(x, false)))).map((r) => r.hash));
    console.log(hashes.size === 1 ? 'All three managers applied the same commands in the same order.' : 'MISMATCH between managers!');
    if (hashes.size !== 1) process.exitCode = 1;
  } finally {
    client.close();
    await Promise.all(members.map((m) => m.stop()));
    if (process.env.TSSWARM_DEMO_KEEP === '1') console.log(`Kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

await main();
