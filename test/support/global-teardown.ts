import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { sweepStaleWorkDirs } from '../../src/dataplane/kernel/script-runner.js';

function ownersAlive(): number {
  let alive = 0;
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^tsswarm-k-(\d+)-/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      alive++;
    } catch {
      // gone: its dir is swept below
    }
  }
  return alive;
}

/**
 * After the whole run: the kernel helpers' temp dirs of processes that ended without an 'exit'
 * event (vitest's forks, daemons killed -9 by the tests) are removed, so the suite leaves no
 * temporary directory behind. Forks may still be on their way out: wait for them (10 s at most).
 */
export default function setup(): () => Promise<void> {
  return async () => {
    const end = Date.now() + 10_000;
    while (ownersAlive() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    sweepStaleWorkDirs();
  };
}
