import { liveWorkDirOwners, sweepStaleWorkDirs } from '../../src/dataplane/kernel/script-runner.js';

/**
 * After the whole run: the kernel helpers' temp dirs of processes that ended without an 'exit'
 * event (vitest's forks, daemons killed -9 by the tests) are removed, so the suite leaves no
 * temporary directory behind. Forks may still be on their way out: wait for them (10 s at most).
 */
export default function setup(): () => Promise<void> {
  return async () => {
    const end = Date.now() + 10_000;
    while (liveWorkDirOwners().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    sweepStaleWorkDirs();
  };
}
