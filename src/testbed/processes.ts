import { readdir, readlink, stat } from 'node:fs/promises';
import { TsswarmError } from '../errors/index.js';
import { processAlive, readProcStat } from '../worker/runtime/proc-stat.js';

/**
 * Finding and ending the processes of a test bed. A process belongs to a host when its network
 * namespace (/proc/PID/ns/net) is the host's nsfs file or one under the host's run dir (task
 * and overlay namespaces): task processes are spawned detached and outlive their daemon, so
 * "the daemon's children" would miss them. PID + start time (field 22 of /proc/PID/stat) name a
 * process for good, so a PID reused by an unrelated process is never signalled.
 */

export interface ProcessId {
  readonly pid: number;
  readonly startTime: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The inode in the text of a /proc/PID/ns/net link, "net:[4026532301]". */
export function parseNsLink(text: string): number | undefined {
  const m = /^net:\[(\d+)\]$/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/**
 * The namespace inodes of those paths that are mounted nsfs files (the same inode that
 * /proc/PID/ns/net names); a placeholder file whose mount is gone, or a missing path, is skipped.
 */
export async function namespaceInodes(nsPaths: readonly string[]): Promise<Set<number>> {
  const nsfsDev = (await stat('/proc/self/ns/net')).dev;
  const out = new Set<number>();
  for (const p of nsPaths) {
    const st = await stat(p).catch(() => undefined);
    if (st !== undefined && st.dev === nsfsDev) out.add(st.ino);
  }
  return out;
}

/** The live (not zombie) processes whose network namespace is one of these inodes. */
export async function processesInInodes(inodes: ReadonlySet<number>): Promise<ProcessId[]> {
  if (inodes.size === 0) return [];
  const out: ProcessId[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    // Fails for a process that exited meanwhile (or a zombie, which has no namespaces left).
    const link = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
    const ino = parseNsLink(link);
    if (ino === undefined || !inodes.has(ino)) continue;
    const st = await readProcStat(pid);
    if (st !== undefined && st.state !== 'Z' && st.state !== 'X') out.push({ pid, startTime: st.startTime });
  }
  return out;
}

/** The live processes in the network namespaces of these nsfs files. */
export async function processesIn(nsPaths: readonly string[]): Promise<ProcessId[]> {
  return processesInInodes(await namespaceInodes(nsPaths));
}

function signal(p: ProcessId, sig: NodeJS.Signals): void {
  try {
    process.kill(p.pid, sig);
  } catch {
    // ESRCH: it ended meanwhile.
  }
}

export interface KillOptions {
  /** Names the test bed in the error; only for the message. */
  readonly label?: string;
  /** Hang guard (ms) for processes to vanish after SIGKILL: they do within milliseconds. */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

/**
 * SIGKILLs every process in the network namespaces of these nsfs files, again and again until
 * none is left (a process may fork while it is being killed). Returns how many were killed.
 * The namespace inodes are read once, first, so the files may be unmounted meanwhile.
 */
export async function killProcessesIn(nsPaths: readonly string[], opts: KillOptions = {}): Promise<number> {
  const inodes = await namespaceInodes(nsPaths);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  const killed = new Set<string>();
  for (;;) {
    const left = await processesInInodes(inodes);
    if (left.length === 0) return killed.size;
    if (Date.now() > deadline) {
      throw new TsswarmError('TESTBED_PROCESS_STUCK', { name: opts.label ?? nsPaths.join(','), pids: left.map((p) => p.pid).join(' ') });
    }
    for (const p of left) {
      if (!(await processAlive(p.pid, p.startTime))) continue;
      signal(p, 'SIGKILL');
      killed.add(`${p.pid}/${p.startTime}`);
    }
    await sleep(pollMs);
  }
}

/**
 * Stops one process the way `docker stop` does: SIGTERM, then SIGKILL once `graceMs` has
 * passed; resolves once it has ended. A process that already ended (or whose PID now belongs
 * to another process) is left alone. Returns whether SIGKILL was needed.
 */
export async function stopProcess(p: ProcessId, graceMs: number, opts: { pollMs?: number; killTimeoutMs?: number } = {}): Promise<boolean> {
  const pollMs = opts.pollMs ?? 50;
  if (!(await processAlive(p.pid, p.startTime))) return false;
  signal(p, 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (Date.now() < termDeadline) {
    if (!(await processAlive(p.pid, p.startTime))) return false;
    await sleep(pollMs);
  }
  signal(p, 'SIGKILL');
  const killDeadline = Date.now() + (opts.killTimeoutMs ?? 10_000);
  while (await processAlive(p.pid, p.startTime)) {
    if (Date.now() > killDeadline) throw new TsswarmError('TESTBED_PROCESS_STUCK', { name: `process ${p.pid}`, pids: String(p.pid) });
    await sleep(pollMs);
  }
  return true;
}
