/**
 * `npm run demo`: the main job on this one machine. Builds a 3-host virtual cluster (a network
 * namespace per host, one tsswarm daemon each: one manager, two workers), creates a service of
 * 3 replicas with the process runtime, waits until they run, one per host, shows `node ls`,
 * `service ps` and `service logs`, and leaves the cluster running for you to try the CLI on.
 * `tsswarm cluster down --name demo` removes everything. Run as root (namespaces).
 */
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../errors/index.js';
import { runTsswarm } from './cli-runner.js';
import { clusterDown, clusterUp } from './cluster.js';
import { readState } from './state.js';
import { DEFAULT_ROOT } from './testbed.js';

const NAME = 'demo';
const bin = { node: process.execPath, mainJs: fileURLToPath(new URL('../cli/main.js', import.meta.url)) };
const say = (text: string): void => void process.stdout.write(`${text}\n`);

async function tsswarm(socket: string, ...args: string[]): Promise<string> {
  const r = await runTsswarm(bin, socket, args, 120_000);
  if (r.code !== 0) throw new Error(`tsswarm ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function main(): Promise<void> {
  if ((await readState(DEFAULT_ROOT, NAME)) !== undefined) {
    say(`removing the previous "${NAME}" cluster`);
    await clusterDown(NAME, DEFAULT_ROOT);
  }
  say(`building a 3-host cluster "${NAME}" (1 manager, 2 workers), one daemon per host`);
  const bed = await clusterUp({ name: NAME, nodes: 3, managers: 1, subnet: '10.77.0.0/24', mtu: 1500, root: DEFAULT_ROOT, bin, onProgress: (l) => say(`  ${l}`) });
  const h1 = bed.daemons[0]!.socket;
  say(`\n$ tsswarm -H unix://${h1} node ls`);
  process.stdout.write(await tsswarm(h1, 'node', 'ls'));
  const script = 'while true; do echo "hello from $(hostname) ($TSSWARM_TASK_NAME)"; sleep 5; done';
  say(`\n$ tsswarm service create --name hello --replicas 3 --hostname '{{.Service.Name}}-{{.Task.Slot}}' sh -c '${script}'`);
  process.stdout.write(await tsswarm(h1, 'service', 'create', '--name', 'hello', '--replicas', '3', '--hostname', '{{.Service.Name}}-{{.Task.Slot}}', 'sh', '-c', script));
  say(`\n$ tsswarm service ps hello`);
  process.stdout.write(await tsswarm(h1, 'service', 'ps', 'hello'));
  // Each task has printed its first line by the time it runs; give the slowest a moment.
  await new Promise((r) => setTimeout(r, 1_000));
  say(`\n$ tsswarm service logs hello`);
  process.stdout.write(await tsswarm(h1, 'service', 'logs', 'hello'));
  say(`\nThe cluster keeps running. Try, for example:`);
  say(`  node ${bin.mainJs} -H unix://${h1} service scale hello=6`);
  say(`  node ${bin.mainJs} cluster ls`);
  say(`Remove it with: node ${bin.mainJs} cluster down --name ${NAME}`);
  say('(Published ports through the routing mesh are not there yet: see README.md.)');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
