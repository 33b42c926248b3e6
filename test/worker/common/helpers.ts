import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A throwaway network namespace (ip netns) for runtime tests; returns its nsfs path. */
export async function makeNetns(name: string): Promise<string> {
  await exec('ip', ['netns', 'del', name]).catch(() => undefined);
  await exec('ip', ['netns', 'add', name]);
  await exec('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}

export async function removeNetns(name: string): Promise<void> {
  await exec('ip', ['netns', 'del', name]).catch(() => undefined);
}

/** stdout of a command; throws when it fails. */
export async function runOut(argv: readonly string[]): Promise<string> {
  const [cmd, ...args] = argv;
  const { stdout } = await exec(cmd ?? 'true', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Last-resort cleanup: SIGKILLs every process whose command line mentions `marker` (the
 * supervisors and init scripts of process-runtime tasks carry their task directory), and the
 * task processes under them. For afterAll hooks, so a failing test leaves nothing running.
 */
export async function killProcsMentioning(marker: string): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let killed = 0;
  const supervisors: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) supervisors.push(pid);
  }
  const all = new Set<number>(supervisors);
  // Descendants (the task itself no longer mentions the marker after its exec).
  let frontier = [...supervisors];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const pid of frontier) {
      const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
      for (const k of kids.trim().split(/\s+/).filter((s) => s !== '').map(Number)) {
        if (all.has(k)) continue;
        all.add(k);
        next.push(k);
      }
    }
    frontier = next;
  }
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // gone
    }
  }
  return killed;
}
