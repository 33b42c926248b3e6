import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { TsswarmError } from '../errors/index.js';

function alive(pid: number): boolean {
  // A killed daemon whose parent has not reaped it yet is a zombie: gone, though kill(0) works.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
  } catch {
    // No /proc entry: fall through to kill(0).
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One daemon per data root: a PID file created exclusively. A file left by a daemon that
 * died (kill -9) names a process that no longer exists and is taken over. Throws
 * DAEMON_ALREADY_RUNNING if its daemon is alive. Returns the release function.
 */
export async function acquirePidLock(path: string, dataRoot: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new TsswarmError('DAEMON_ALREADY_RUNNING', { resource: `data root ${dataRoot}`, reason: `process ${pid} holds ${path}` });
    }
    await rm(path, { force: true });
  }
  throw new TsswarmError('DAEMON_ALREADY_RUNNING', { resource: `data root ${dataRoot}`, reason: `${path} keeps reappearing: another daemon is starting` });
}
