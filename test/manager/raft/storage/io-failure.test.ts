/**
 * A real disk failure: a tiny tmpfs that runs out of space (ENOSPC) under the log. Needs root
 * to mount; skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../../../src/log/logger.js';
import { openRaftLog } from '../../../../src/manager/raft/storage/index.js';
import { entry, tempDir, thrown } from './helpers.js';

const isRoot = process.getuid?.() === 0;

describe('disk failure', () => {
  it.skipIf(!isRoot)('a failed write rejects with STORAGE_IO, stops the log, and loses nothing acknowledged', async () => {
    const mountPoint = join(await tempDir('enospc'), 'fs');
    await mkdir(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    onTestFinished(() => {
      execFileSync('umount', [mountPoint]);
    });
    const dir = join(mountPoint, 'raft');

    const { log } = await openRaftLog(dir, {}, silentLogger());
    let acked = 0;
    let failure: { code?: string } | undefined;
    for (let i = 1; i <= 100 && failure === undefined; i++) {
      try {
        await log.save({ term: 1, vote: 'a', commit: acked }, [entry(i, 1, 4000)], true);
        acked = i;
      } catch (err) {
        failure = err as { code?: string };
      }
    }
    expect(failure?.code).toBe('STORAGE_IO');
    expect(acked).toBeGreaterThan(3);
    // Stopped for good: even a call that would fit is refused with the same error.
    expect((await thrown(() => log.save(undefined, [], true))).code).toBe('STORAGE_IO');
    expect((await thrown(() => log.save({ term: 2, vote: '', commit: 0 }, [], true))).code).toBe('STORAGE_IO');
    await log.close();

    const { log: log2, recovered } = await openRaftLog(dir, {}, silentLogger());
    expect(recovered.entries.length).toBeGreaterThanOrEqual(acked);
    expect(recovered.entries.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => entry(i + 1, 1, 4000)));
    await log2.close();
  });
});
