/**
 * kill -9 a real writer process mid-stream, reopen, and check that every save it saw resolve
 * is still there and that the log is a consistent prefix of what it wrote.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../../../src/log/logger.js';
import { openRaftLog } from '../../../../src/manager/raft/storage/index.js';
import { CRASH_CONFIG, crashEntry, snapshotData } from './fixtures/crash-plan.js';
import { compiledPath } from '../../../support/compiled.js';
import { tempDir } from './helpers.js';

const writer = compiledPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

interface RoundOutput {
  /** [first, last] of every save the child saw resolve. */
  readonly acks: Array<[number, number]>;
  readonly snapshots: number[];
}

/** Runs the writer until it has acknowledged `acksWanted` saves, then SIGKILLs it. */
function runAndKill(dir: string, term: number, acksWanted: number): Promise<RoundOutput> {
  const child = spawn(
    process.execPath,
    [writer, dir, String(term)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const out: RoundOutput = { acks: [], snapshots: [] };
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const [kind, a, b] = line.split(' ');
    if (kind === 'ack') {
      out.acks.push([Number(a), Number(b)]);
      if (out.acks.length === acksWanted) child.kill('SIGKILL');
    } else if (kind === 'snap') {
      out.snapshots.push(Number(a));
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' waits for stdout to end, so every line the child printed has been read.
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(out);
      else reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe('crash recovery with a real process', () => {
  it('keeps every acknowledged entry across repeated kill -9', { timeout: 120_000 }, async () => {
    const dir = await tempDir('crash');
    const acked = new Map<number, number>(); // index -> term it was acknowledged with
    let snapshotsTaken = 0;
    let tornRounds = 0;
    const plan = [1, 40, 120, 17, 260, 75, 3, 190];
    for (const [round, acksWanted] of plan.entries()) {
      const term = round + 1;
      const out = await runAndKill(dir, term, acksWanted);
      expect(out.acks.length).toBeGreaterThanOrEqual(acksWanted);
      for (const [first, last] of out.acks) for (let i = first; i <= last; i++) acked.set(i, term);
      snapshotsTaken += out.snapshots.length;

      const { log, recovered } = await openRaftLog(dir, CRASH_CONFIG, silentLogger());
      if (recovered.tornTailTruncated) tornRounds++;
      const snap = recovered.snapshot;
      const snapIndex = snap?.metadata.index ?? 0;
      if (snap !== undefined) expect(snap.data).toEqual(snapshotData(snapIndex, snap.metadata.term));
      // A consistent prefix: contiguous after the snapshot, each entry exactly as written,
      // terms never going down (each round only appends after what it recovered).
      let prevTerm = snap?.metadata.term ?? 0;
      recovered.entries.forEach((e, i) => {
        expect(e.index).toBe(snapIndex + 1 + i);
        expect(e).toEqual(crashEntry(e.index, e.term));
        expect(e.term).toBeGreaterThanOrEqual(prevTerm);
        prevTerm = e.term;
      });
      const lastIndex = recovered.entries.at(-1)?.index ?? snapIndex;
      // Every acknowledged index survived, with the term it was acknowledged with.
      for (const [index, ackTerm] of acked) {
        expect(index).toBeLessThanOrEqual(lastIndex);
        if (index > snapIndex) expect(recovered.entries[index - snapIndex - 1]?.term).toBe(ackTerm);
      }
      expect(recovered.hardState.term).toBe(term);
      expect(recovered.hardState.vote).toBe('writer');
      await log.close();
    }
    expect(acked.size).toBeGreaterThan(500);
    expect(snapshotsTaken).toBeGreaterThan(0);
    console.info(`crash test: ${plan.length} kills, ${acked.size} acknowledged entries, ${snapshotsTaken} snapshots, ${tornRounds} torn tails`);
  });
});
