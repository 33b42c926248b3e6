import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepStaleWorkDirs } from '../../../src/dataplane/kernel/script-runner.js';

/** The PID of a process that has ended (a finished child's; the kernel does not reuse it at once). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('the kernel helpers\' temp dirs', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a dir of a process that is gone is removed, those of running processes are kept', () => {
    const dead = mkdtempSync(join(tmpdir(), `tsswarm-k-${deadPid()}-`));
    const legacy = join(tmpdir(), `tsswarm-k-Ab9xQz${process.pid}`);
    mkdirSync(legacy);
    const mine = mkdtempSync(join(tmpdir(), `tsswarm-k-${process.pid}-`));
    const parent = mkdtempSync(join(tmpdir(), `tsswarm-k-${process.ppid}-`));
    const other = mkdtempSync(join(tmpdir(), 'tsswarm-x-'));
    made.push(dead, legacy, mine, parent, other);

    sweepStaleWorkDirs();

    expect(existsSync(dead)).toBe(false);
    expect(existsSync(legacy)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(parent)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});
