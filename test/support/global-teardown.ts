import { sweepStaleWorkDirs } from '../../src/dataplane/kernel/script-runner.js';

/**
 * After the whole run, once every test worker has ended: the kernel helpers' temp dirs of
 * workers that ended without an 'exit' event (vitest ends its forks) and of daemons killed -9
 * by the tests are removed, so the suite leaves no temporary directory behind.
 */
export default function setup(): () => void {
  return () => sweepStaleWorkDirs();
}
