import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsswarmError, errorMessage, isTsswarmError } from '../errors/index.js';
import { mountsUnder } from '../dataplane/kernel/netns.js';
import { sweepStaleWorkDirs } from '../dataplane/kernel/script-runner.js';
import { processAlive } from '../worker/runtime/proc-stat.js';
import { describeFailure, runTsswarm, type TsswarmBinary } from './cli-runner.js';
import { parseClusterConfig, type ClusterConfig } from './cluster-config.js';
import { removeTaskContainers, taskIdsUnder } from './docker-cleanup.js';
import { daemonPaths, logTail, spawnHostDaemon, waitServing, type StartedDaemon } from './host-daemon.js';
import { killProcessesIn, stopProcess } from './processes.js';
import { readState, writeState, type DaemonRecord, type TestbedHost, type TestbedState } from './state.js';
import { DEFAULT_ROOT, testbedDown, testbedUp, type TestbedOptions } from './testbed.js';

/**
 * A working cluster on a test bed: a `tsswarm daemon` in every host, the first one inited, the
 * next managers-1 joined as managers and the rest as workers, each advertising its host's
 * address. `clusterDown` removes all of it, also what the daemons made (task processes, which
 * outlive their daemon; Docker containers; namespaces), and also a half-built one.
 */

/** Raft, node and manager traffic (the port `init` listens on by default). */
export const MANAGER_PORT = 2377;

export interface ClusterOptions extends TestbedOptions {
  /** How many hosts are managers (h1..hM); 1..nodes. */
  readonly managers: number;
  readonly bin: TsswarmBinary;
  /** More `tsswarm daemon` flags for a host (e.g. `--default-runtime docker`). */
  readonly daemonArgs?: (host: TestbedHost) => readonly string[];
  /** ClusterConfig input (see cluster-config.ts); defaults when absent. */
  readonly config?: unknown;
  /** Called with a short line at each step, for a CLI to show progress. */
  readonly onProgress?: (line: string) => void;
}

export interface ClusterState extends TestbedState {
  readonly daemons: readonly DaemonRecord[];
}

/** Managers first: h1..hM are managers, the rest workers. Throws CONFIG_INVALID on bad counts. */
export function planRoles(nodes: number, managers: number): Array<DaemonRecord['role']> {
  if (!Number.isInteger(managers) || managers < 1 || managers > nodes) {
    throw new TsswarmError('CONFIG_INVALID', { component: 'cluster', problems: `managers ${managers}: 1..${nodes} (the number of nodes)` });
  }
  return Array.from({ length: nodes }, (_, i) => (i < managers ? 'manager' : 'worker'));
}

function upFailed(name: string, step: string, reason: string): TsswarmError {
  return new TsswarmError('TESTBED_UP_FAILED', { name, step, reason });
}

export async function clusterUp(opts: ClusterOptions): Promise<ClusterState> {
  const cfg = parseClusterConfig(opts.config);
  const roles = planRoles(opts.nodes, opts.managers);
  // testbedUp refuses an existing name before making anything and removes its own half-work.
  const bed = await testbedUp(opts);
  const progress = opts.onProgress ?? (() => undefined);
  const started: StartedDaemon[] = [];
  try {
    progress(`starting ${bed.hosts.length} daemons`);
    for (const [i, host] of bed.hosts.entries()) {
      started.push(await spawnHostDaemon(opts.bin, host, daemonPaths(bed, host), roles[i] ?? 'worker', opts.daemonArgs?.(host) ?? []));
    }
    // Recorded before anything waits on them, so a `down` from another process finds them.
    const state: ClusterState = { ...bed, daemons: started.map((s) => s.record) };
    await writeState(state);
    const waitOpts = { name: bed.name, timeoutMs: cfg.daemonStartTimeoutMs, pollMs: cfg.pollIntervalMs, cliTimeoutMs: cfg.cliTimeoutMs, logTailLines: cfg.logTailLines };
    // allSettled: on a failure the other waits must end before the cleanup, or their polling
    // CLI processes outlive it.
    const served = await Promise.allSettled(started.map((s) => waitServing(opts.bin, s, waitOpts)));
    const failed = served.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;

    const [first, ...rest] = state.daemons;
    const firstHost = bed.hosts[0];
    if (first === undefined || firstHost === undefined) return state;
    progress(`initializing the swarm on ${firstHost.name} (${firstHost.address})`);
    await cli(opts.bin, cfg, bed.name, first, `init on ${first.host}`, ['init', '--advertise-addr', firstHost.address]);
    const token = async (role: string): Promise<string> =>
      (await cli(opts.bin, cfg, bed.name, first, `join-token ${role}`, ['join-token', '-q', role])).stdout.trim();
    const tokens = { manager: await token('manager'), worker: await token('worker') };
    const join = (d: DaemonRecord): Promise<unknown> => {
      const host = bed.hosts.find((h) => h.name === d.host);
      const addr = host?.address ?? '';
      return cli(opts.bin, cfg, bed.name, d, `join of ${d.host} as a ${d.role}`, [
        'join',
        '--token',
        tokens[d.role],
        '--advertise-addr',
        addr,
        `${firstHost.address}:${MANAGER_PORT}`,
      ]);
    };
    // Managers one at a time (Raft adds one member at a time); workers all at once.
    for (const d of rest.filter((x) => x.role === 'manager')) {
      progress(`joining ${d.host} as a manager`);
      await join(d);
    }
    const workers = rest.filter((x) => x.role === 'worker');
    if (workers.length > 0) progress(`joining ${workers.map((w) => w.host).join(', ')} as workers`);
    await Promise.all(workers.map(join));
    return state;
  } catch (e) {
    progress('failed: removing what was made');
    await clusterDown(bed.name, bed.root, { config: opts.config }).catch(() => undefined);
    if (isTsswarmError(e, 'TESTBED_UP_FAILED')) throw e;
    throw upFailed(bed.name, 'starting the daemons', errorMessage(e));
  }
}

async function cli(bin: TsswarmBinary, cfg: ClusterConfig, name: string, d: DaemonRecord, step: string, args: string[]): Promise<{ stdout: string }> {
  const r = await runTsswarm(bin, d.socket, args, cfg.cliTimeoutMs);
  if (r.code === 0) return r;
  // The token is a secret of the swarm, and useless in an error: keep it out of the message.
  const shown = args.map((a, i) => (args[i - 1] === '--token' ? '<token>' : a));
  throw upFailed(name, step, `${describeFailure(shown, r)}; ${await logTail(d.log, cfg.logTailLines)}`);
}

export interface ClusterDownResult {
  /** Whether there was anything (state or directory) to remove. */
  readonly existed: boolean;
  readonly daemonsStopped: number;
  readonly processesKilled: number;
  readonly containersRemoved: number;
}

/**
 * Removes a cluster: daemons (SIGTERM, SIGKILL after the grace period), every process still
 * in one of its namespaces, its task containers, then the namespaces and the directory.
 * Idempotent: a missing or half-built bed is fine.
 */
export async function clusterDown(name: string, root: string = DEFAULT_ROOT, opts: { config?: unknown } = {}): Promise<ClusterDownResult> {
  const cfg = parseClusterConfig(opts.config);
  const dir = join(root, name);
  const st = await readState(root, name);
  const existed = st !== undefined || existsSync(dir);
  const daemons = st?.daemons ?? [];
  const stopped = await Promise.all(daemons.map(async (d) => ((await processAlive(d.pid, d.startTime)) ? (await stopProcess(d, cfg.stopGraceMs, { pollMs: cfg.pollIntervalMs }), 1) : 0)));
  // Every namespace the bed has: the hosts', the underlay's, and those the daemons made under
  // the hosts' run dirs (task sandboxes, overlays), whether or not the state file survived.
  const nsPaths = [...new Set([...(st?.hosts.map((h) => h.nsPath) ?? []), ...(await mountsUnder(dir))])];
  const killed = await killProcessesIn(nsPaths, { label: name });
  const containers = await removeTaskContainers(await taskIdsUnder(join(dir, 'data')));
  await testbedDown(name, root);
  // Daemons killed -9 along the way could not remove their kernel helpers' temp dirs.
  sweepStaleWorkDirs();
  return { existed, daemonsStopped: stopped.reduce<number>((a, b) => a + b, 0), processesKilled: killed, containersRemoved: containers };
}

export interface DaemonStatus extends DaemonRecord {
  readonly address: string;
  readonly running: boolean;
}

/** The recorded daemons of a bed and whether each still runs. */
export async function daemonStatuses(st: TestbedState): Promise<DaemonStatus[]> {
  return Promise.all(
    (st.daemons ?? []).map(async (d) => ({
      ...d,
      address: st.hosts.find((h) => h.name === d.host)?.address ?? '',
      running: await processAlive(d.pid, d.startTime),
    })),
  );
}
