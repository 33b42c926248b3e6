import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import { runTsswarm, type CliResult, type TsswarmBinary } from '../../src/testbed/cli-runner.js';
import { clusterDown, clusterUp, type ClusterState } from '../../src/testbed/cluster.js';
import { daemonPaths, spawnHostDaemon, waitServing } from '../../src/testbed/host-daemon.js';
import { compiledPath } from './compiled.js';

/** The compiled CLI, as the test beds' daemons and commands run it. */
export const compiledCli: TsswarmBinary = { node: process.execPath, mainJs: compiledPath(new URL('../../src/cli/main.ts', import.meta.url)) };

/** Polls until `cond` holds on what `fn` returns, and returns that; the deadline only guards against a hang. */
export async function eventually<T>(what: string, fn: () => Promise<T>, cond: (v: T) => boolean, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T = await fn();
  while (!cond(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A test's cluster on a test bed (a namespace per host, one daemon each), driven through the
 * real CLI: `up()` in beforeAll, `down()` in afterAll (it removes everything, also after a
 * failure), and the daemons killed or restarted by host name.
 */
export class TestbedCluster {
  private state: ClusterState | undefined;

  constructor(
    readonly name: string,
    readonly root: string,
    readonly bin: TsswarmBinary = compiledCli,
  ) {}

  get bed(): ClusterState {
    if (this.state === undefined) throw new Error(`cluster ${this.name} is not up`);
    return this.state;
  }

  async up(opts: { nodes: number; managers: number; subnet: string }): Promise<ClusterState> {
    this.state = await clusterUp({ name: this.name, root: this.root, bin: this.bin, mtu: 1500, ...opts });
    return this.state;
  }

  async down(): Promise<void> {
    await clusterDown(this.name, this.root);
    // This test process's kernel helper shell and its temp dir (forks may end without 'exit').
    closeScriptSession();
  }

  host(name: string): ClusterState['hosts'][number] {
    const h = this.bed.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  daemon(host: string): ClusterState['daemons'][number] {
    const d = this.bed.daemons.find((x) => x.host === host);
    if (d === undefined) throw new Error(`no daemon on ${host}`);
    return d;
  }

  cli(host: string, ...args: string[]): Promise<CliResult> {
    return runTsswarm(this.bin, this.daemon(host).socket, args, 120_000);
  }

  /** Runs the command and returns its stdout; a non-zero exit fails the test with its stderr. */
  async ok(host: string, ...args: string[]): Promise<string> {
    const r = await this.cli(host, ...args);
    if (r.code !== 0) throw new Error(`tsswarm ${args.join(' ')} on ${host} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async killDaemon(host: string): Promise<void> {
    const d = this.daemon(host);
    process.kill(d.pid, 'SIGKILL');
    await eventually(`${host} daemon dead`, async () => !alive(d.pid), (dead) => dead);
  }

  /** Stops the host's daemon (with `signal`, SIGKILL if it hangs; or SIGKILL at once) and starts it again. */
  async restartDaemon(host: string, signal?: NodeJS.Signals): Promise<void> {
    const old = this.daemon(host);
    if (signal !== undefined) {
      process.kill(old.pid, signal);
      await eventually(`${host} daemon stopped`, async () => !alive(old.pid), (gone) => gone, 30_000).catch(() => this.killDaemon(host));
    } else {
      await this.killDaemon(host).catch(() => undefined);
    }
    const h = this.host(host);
    const started = await spawnHostDaemon(this.bin, h, daemonPaths(this.bed, h), old.role, []);
    await waitServing(this.bin, started, { name: this.name, timeoutMs: 60_000, pollMs: 100, cliTimeoutMs: 60_000, logTailLines: 20 });
    this.state = { ...this.bed, daemons: this.bed.daemons.map((x) => (x.host === host ? started.record : x)) };
  }
}
