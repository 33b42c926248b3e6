/**
 * Raft WAL benchmark: raw fdatasync latency of this disk, then save() with sync=true for
 * batches of 1, 16 and 64 entries of 256 bytes, one at a time (a follower's pace) and with
 * 32 saves in flight (a busy leader, where group commit shares fdatasyncs).
 *
 *   npm run bench:raft-wal -- [dir]   (dir defaults to a temp dir)
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log/logger.js';
import { openRaftLog } from '../src/manager/raft/storage/index.js';
import { EntryType, type Entry } from '../src/manager/raft/types.js';

const ENTRY_BYTES = 256;

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? NaN;
}

function summary(samplesMs: number[]): string {
  const s = [...samplesMs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(3)} ms, p99 ${percentile(s, 99).toFixed(3)} ms`;
}

async function rawFdatasync(dir: string, rounds: number): Promise<void> {
  const fh = await open(join(dir, 'raw'), 'w');
  const block = Buffer.alloc(ENTRY_BYTES + 35, 7);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await fh.write(block, 0, block.length, i * block.length);
    const t = performance.now();
    await fh.datasync();
    samples.push(performance.now() - t);
  }
  await fh.close();
  console.log(`raw fdatasync after a ${block.length}-byte append (${rounds} rounds): ${summary(samples)}`);
}

function batchOf(first: number, count: number): Entry[] {
  const data = new Uint8Array(ENTRY_BYTES).fill(0xab);
  return Array.from({ length: count }, (_, i) => ({ index: first + i, term: 1, type: EntryType.Normal, data }));
}

async function saves(dir: string, batch: number, total: number, inFlight: number): Promise<void> {
  const logDir = join(dir, `log-${batch}-${inFlight}`);
  const { log } = await openRaftLog(logDir, {}, silentLogger());
  let next = 1;
  const latencies: number[] = [];
  const start = performance.now();
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const entries = batchOf(next, batch);
    next += batch;
    const t = performance.now();
    const p = log.save({ term: 1, vote: 'a', commit: next - batch - 1 }, entries, true).then(() => {
      latencies.push(performance.now() - t);
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  const stats = log.stats();
  await log.close();
  const entriesPerSec = (total * batch) / seconds;
  console.log(
    `batch ${String(batch).padStart(2)} x ${ENTRY_BYTES} B, ${String(inFlight).padStart(2)} in flight: ` +
      `${(total / seconds).toFixed(0)} saves/s, ${entriesPerSec.toFixed(0)} entries/s, ` +
      `${((entriesPerSec * ENTRY_BYTES) / 1e6).toFixed(2)} MB/s of entry data; save latency ${summary(latencies)}; ` +
      `${stats.fsyncs} fdatasyncs for ${total} saves`,
  );
}

/** Reopens a log written above: reading, CRC-checking and replaying every record. */
async function recovery(logDir: string): Promise<void> {
  const t = performance.now();
  const { log, recovered } = await openRaftLog(logDir, {}, silentLogger());
  const ms = performance.now() - t;
  const { segments } = log.stats();
  await log.close();
  console.log(`recovery: ${recovered.entries.length} entries from ${segments} segment(s) in ${ms.toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'tsswarm-bench-wal-')));
  try {
    await rawFdatasync(dir, 1000);
    for (const inFlight of [1, 32]) {
      for (const batch of [1, 16, 64]) await saves(dir, batch, batch === 1 ? 2000 : 1000, inFlight);
    }
    await recovery(join(dir, 'log-64-32'));
  } finally {
    if (process.argv[2] === undefined) await rm(dir, { recursive: true, force: true });
  }
}

await main();
