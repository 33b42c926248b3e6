/**
 * Three managers' Raft as separate OS processes on 127.0.0.1-3 (port 2377, or
 * $TSSWARM_TEST_RAFT_PORT, or a free one if that is taken), under 16 concurrent proposers;
 * the leader is killed with SIGKILL mid-load and restarted. Afterwards every acknowledged
 * proposal must have been applied exactly once on every member, all members must have applied
 * the same sequence (same running hash), and no proposal may appear twice.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemberProcess, pickPort, waitForLeader } from '../../../src/manager/raft/standalone/member-process.js';
import { RaftClient, memberApplied } from '../../../src/manager/raft/standalone/raft-client.js';
import { compiledPath } from '../../support/compiled.js';

const PROPOSERS = 16;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let root = '';
let members: MemberProcess[] = [];

beforeAll(async () => {
  // Members run the compiled code (npm test builds it first); fail clearly if it is stale.
  compiledPath(new URL('../../../src/manager/raft/standalone/member-main.ts', import.meta.url));
  root = await mkdtemp(join(tmpdir(), 'tsswarm-raft-procs-'));
  const port = await pickPort('TSSWARM_TEST_RAFT_PORT');
  const specs = [1, 2, 3].map((i) => ({
    id: `m${i}`,
    addr: `127.0.0.${i}:${port}`,
    dataDir: join(root, `m${i}`),
    logFile: join(root, `m${i}.log`),
    // Small snapshot interval so the run also crosses snapshots and log compaction.
    extraArgs: ['--snapshot-interval', '500'],
  }));
  const peers = specs.map((s) => `${s.id}=${s.addr}`).join(',');
  members = specs.map((s) => new MemberProcess(s, peers));
  for (const m of members) m.start();
}, 120_000);

afterAll(async () => {
  await Promise.all(members.map((m) => m.stop()));
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('Raft members as OS processes', () => {
  it('applies every acknowledged write exactly once, in the same order everywhere, across a SIGKILL of the leader', async () => {
    const addrs = members.map((m) => m.spec.addr);
    const first = await waitForLeader(addrs);

    const acked = new Set<string>();
    const unknown = new Set<string>();
    let ackedAfterKill = 0;
    let killed = false;
    let stop = false;
    const clients = Array.from({ length: PROPOSERS }, () => new RaftClient(addrs, { timeoutMs: 5_000 }));
    const load = clients.map(async (client, w) => {
      let seq = 0;
      while (!stop) {
        const id = `p${w}-${seq++}`;
        try {
          await client.propose(id, Buffer.from(`payload of ${id}`));
          acked.add(id);
          if (killed) ackedAfterKill++;
        } catch {
          // Timeout, broken stream, no quorum: the write may or may not have happened. It is
          // never resent under the same ID, so it must appear at most once.
          unknown.add(id);
          await sleep(20);
        }
      }
    });

    try {
      await sleep(1_500);
      const victim = members.find((m) => m.spec.id === first.id)!;
      killed = true;
      await victim.kill9();
      const ackedAtKill = acked.size;
      const second = await waitForLeader(addrs.filter((a) => a !== victim.spec.addr));
      expect(second.id).not.toBe(first.id);
      await sleep(1_500);
      victim.start();
      await sleep(2_000);
      expect(acked.size).toBeGreaterThan(ackedAtKill);
    } finally {
      stop = true;
      await Promise.all(load);
      for (const c of clients) c.close();
    }
    expect(ackedAfterKill).toBeGreaterThan(0);

    // All members converge on the same count and hash.
    const deadline = Date.now() + 30_000;
    let reports = await Promise.all(addrs.map((a) => memberApplied(a, false).catch(() => undefined)));
    while (Date.now() < deadline) {
      const ok = reports.every((r) => r !== undefined && r.count === reports[0]!.count && r.hash === reports[0]!.hash);
      if (ok && reports[0]!.count >= acked.size) break;
      await sleep(100);
      reports = await Promise.all(addrs.map((a) => memberApplied(a, false).catch(() => undefined)));
    }
    const full = await Promise.all(addrs.map((a) => memberApplied(a, true)));
    const seqs = full.map((r) => r.requestIds);
    expect(full[1]!.hash).toBe(full[0]!.hash);
    expect(full[2]!.hash).toBe(full[0]!.hash);
    expect(seqs[1]).toEqual(seqs[0]);
    expect(seqs[2]).toEqual(seqs[0]);

    const applied = seqs[0]!;
    const seen = new Set<string>();
    const dups = applied.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
    expect(dups).toEqual([]);
    const missing = [...acked].filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
    const invented = applied.filter((id) => !acked.has(id) && !unknown.has(id));
    expect(invented).toEqual([]);
    expect(acked.size).toBeGreaterThan(100);
    console.log(
      `raft processes: ${acked.size} acknowledged (${ackedAfterKill} after the kill), ${unknown.size} with unknown outcome, ` +
        `${applied.length} applied on every member, hash ${full[0]!.hash}`,
    );

    // The restarted member came back from its own disk (snapshot + WAL), not as a new node.
    const victimLog = await readFile(members.find((m) => m.spec.id === first.id)!.spec.logFile, 'utf8');
    expect(victimLog).toContain('recovered raft state from disk');
  }, 120_000);
});
