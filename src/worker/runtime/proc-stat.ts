import { readFile } from 'node:fs/promises';

/** What the executor reads of a process in /proc/PID/stat. */
export interface ProcStat {
  readonly pid: number;
  /** Field 3: R, S, D, Z (zombie: exited, not yet reaped), ... */
  readonly state: string;
  readonly ppid: number;
  /** Field 22: clock ticks after boot when it started; with the PID, names one process for good. */
  readonly startTime: number;
}

/**
 * Parses one /proc/PID/stat line. The command name (field 2) sits in parentheses and may
 * itself hold spaces and parentheses, so fields are counted after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3, so field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || state === undefined || !Number.isInteger(ppid) || !Number.isInteger(startTime)) return undefined;
  return { pid, state, ppid, startTime };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True while the process that started at `startTime` still lives (a zombie has ended). */
export async function processAlive(pid: number, startTime: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== undefined && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

/** The PIDs whose parent is `pid` (from /proc/PID/task/*\/children). */
export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The processes whose command line contains `marker`, and all their descendants. Finds what a
 * start left running when it crashed before recording it: every process-runtime supervisor
 * names its task directory in its arguments.
 */
export async function processTreeMentioning(marker: string): Promise<Array<{ pid: number; startTime: number }>> {
  const { readdir } = await import('node:fs/promises');
  const roots: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) roots.push(pid);
  }
  const seen = new Set<number>(roots);
  let frontier = roots;
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const pid of frontier) {
      for (const k of await childPids(pid)) {
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(k);
      }
    }
    frontier = next;
  }
  const out: Array<{ pid: number; startTime: number }> = [];
  for (const pid of seen) {
    const st = await readProcStat(pid);
    if (st !== undefined) out.push({ pid, startTime: st.startTime });
  }
  return out;
}
