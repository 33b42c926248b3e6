import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runTsswarm } from '../src/testbed/cli-runner.js';
import { clusterDown, clusterUp } from '../src/testbed/cluster.js';

/**
 * The control-plane benchmark (`npm run bench:control-plane`, as root): the time from
 * `service create --replicas N` to N tasks RUNNING, for N = 10 and N = 100, on a single-node
 * cluster, side by side in one run:
 *   tsswarm   a daemon on a test-bed host (its own network namespace), process runtime,
 *             each task in its own sandbox namespace, running `sleep`
 *   docker    Docker Swarm of Debian's docker.io (`docker swarm init` on this machine), the
 *             busybox image test/worker/runtime/setup-docker.sh imports, running `sleep`
 * Both are polled through their CLIs every POLL_MS until `service ls` shows N/N, so the figure
 * includes what a user waiting on the CLI sees. Ends with:
 *   control-plane: tsswarm_n100=<s> docker_n100=<s> ratio=<tsswarm/docker>
 */
const exec = promisify(execFile);
const POLL_MS = 100;
const SIZES = [10, 100] as const;
const NAME = 'bench-cp';
const ROOT = '/run/tsswarm-bench';
const IMAGE = 'tsswarm-busybox';
const bin = { node: process.execPath, mainJs: fileURLToPath(new URL('../src/cli/main.js', import.meta.url)) };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seconds from `create` until `replicas()` reports N/N. */
async function timeToRunning(create: () => Promise<void>, replicas: () => Promise<string>, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  await create();
  const deadline = Date.now() + 600_000;
  while ((await replicas()) !== `${n}/${n}`) {
    if (Date.now() > deadline) throw new Error(`${n} replicas did not all run within 10 minutes`);
    await sleep(POLL_MS);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function tsswarmFigures(): Promise<Map<number, number>> {
  const bed = await clusterUp({ name: NAME, nodes: 1, managers: 1, subnet: '10.79.0.0/24', mtu: 1500, root: ROOT, bin });
  const socket = bed.daemons[0]!.socket;
  const cli = async (...args: string[]): Promise<string> => {
    const r = await runTsswarm(bin, socket, args, 120_000);
    if (r.code !== 0) throw new Error(`tsswarm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const figures = new Map<number, number>();
  try {
    for (const n of SIZES) {
      const name = `cp${n}`;
      const seconds = await timeToRunning(
        async () => void (await cli('service', 'create', '--detach', '--name', name, '--replicas', String(n), 'sleep', '100000')),
        async () => {
          const line = (await cli('service', 'ls', '--format', 'json')).split('\n').find((l) => l.includes(`"Name":"${name}"`));
          return line === undefined ? '' : (JSON.parse(line) as { Replicas: string }).Replicas;
        },
        n,
      );
      figures.set(n, seconds);
      process.stdout.write(`tsswarm: ${n} replicas running after ${seconds.toFixed(2)} s\n`);
      await cli('service', 'rm', name);
    }
  } finally {
    await clusterDown(NAME, ROOT);
  }
  return figures;
}

async function docker(...args: string[]): Promise<string> {
  return (await exec('docker', args, { maxBuffer: 16 << 20 })).stdout.trim();
}

async function dockerFigures(): Promise<Map<number, number>> {
  await exec('bash', [fileURLToPath(new URL('../../test/worker/runtime/setup-docker.sh', import.meta.url))]);
  if ((await docker('info', '--format', '{{.Swarm.LocalNodeState}}')) !== 'inactive') {
    throw new Error('this Docker Engine is already in a swarm; the benchmark makes and leaves its own');
  }
  const hadGwbridge = existsSync('/sys/class/net/docker_gwbridge');
  await docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
  const figures = new Map<number, number>();
  try {
    for (const n of SIZES) {
      const name = `cp${n}`;
      const seconds = await timeToRunning(
        async () => void (await docker('service', 'create', '--detach', '--name', name, '--replicas', String(n), IMAGE, 'sleep', '100000')),
        () => docker('service', 'ls', '--filter', `name=${name}`, '--format', '{{.Replicas}}'),
        n,
      );
      figures.set(n, seconds);
      process.stdout.write(`docker:  ${n} replicas running after ${seconds.toFixed(2)} s\n`);
      await docker('service', 'rm', name);
      // The next size starts on an idle engine: wait for the containers to be gone.
      while ((await docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`)) !== '') await sleep(500);
    }
  } finally {
    await docker('swarm', 'leave', '--force').catch(() => '');
    if (!hadGwbridge) await exec('ip', ['link', 'del', 'docker_gwbridge']).catch(() => undefined);
  }
  return figures;
}

async function main(): Promise<void> {
  const ours = await tsswarmFigures();
  const theirs = await dockerFigures();
  const line = (n: number): string => `n${n}: tsswarm=${ours.get(n)!.toFixed(2)} s docker=${theirs.get(n)!.toFixed(2)} s`;
  process.stdout.write(`${SIZES.map(line).join('  ')}\n`);
  const t = ours.get(100)!;
  const d = theirs.get(100)!;
  process.stdout.write(`control-plane: tsswarm_n100=${t.toFixed(2)} docker_n100=${d.toFixed(2)} ratio=${(t / d).toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:control-plane failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
