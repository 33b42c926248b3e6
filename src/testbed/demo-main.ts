/**
 * `npm run demo`: the main job on this one machine. Builds a 3-host virtual cluster (a network
 * namespace per host, one tsswarm daemon each: one manager, two workers), creates an overlay
 * network and a service of 3 replicas on it with the process runtime (each task a tiny TCP
 * server answering with its hostname), waits until they run, one per host, shows `node ls`,
 * `service ps`, a worker's gossip view of the network, `service logs`, and connections from
 * the first task to the others across hosts over VXLAN, and leaves the cluster running for you
 * to try the CLI on. `tsswarm cluster down --name demo` removes everything. Run as root.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { errorMessage } from '../errors/index.js';
import { runTsswarm } from './cli-runner.js';
import { clusterDown, clusterUp } from './cluster.js';
import { readState } from './state.js';
import { DEFAULT_ROOT } from './testbed.js';

const NAME = 'demo';
const bin = { node: process.execPath, mainJs: fileURLToPath(new URL('../cli/main.js', import.meta.url)) };
const say = (text: string): void => void process.stdout.write(`${text}\n`);
const execFileP = promisify(execFile);
const PORT = 7000;
/** Each task: a TCP server on PORT that answers with its hostname, and a log line per answer. */
const SERVER = `require('net').createServer((s) => { console.log('answered ' + s.remoteAddress); s.end(require('os').hostname() + '\\n'); }).listen(${PORT}); console.log('listening on ${PORT}')`;
/** The client, run in a task's network namespace: connects to ADDR and prints the answer. */
const CLIENT = `const s = require('net').connect(${PORT}, process.argv[1]); let out = ''; s.on('data', (d) => (out += d)); s.on('end', () => console.log(out.trim())); s.on('error', (e) => console.log('failed: ' + e.message)); s.setTimeout(3000, () => { console.log('timed out'); s.destroy(); })`;

interface TaskRow { ID: string; Name: string; Node: string; Networks: string }

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
  say(`\n$ tsswarm network create demo-net`);
  process.stdout.write(await tsswarm(h1, 'network', 'create', 'demo-net'));
  say(`\n$ tsswarm service create --name hello --replicas 3 --network demo-net --hostname '{{.Service.Name}}-{{.Task.Slot}}' node -e "<a TCP server on ${PORT} answering with its hostname>"`);
  process.stdout.write(await tsswarm(h1, 'service', 'create', '--name', 'hello', '--replicas', '3', '--network', 'demo-net', '--hostname', '{{.Service.Name}}-{{.Task.Slot}}', 'node', '-e', SERVER));
  say(`\n$ tsswarm service ps hello`);
  process.stdout.write(await tsswarm(h1, 'service', 'ps', 'hello'));
  const rows = (await tsswarm(h1, 'service', 'ps', '--no-trunc', '--format', 'json', '-f', 'desired-state=running', 'hello'))
    .trim().split('\n').map((l) => JSON.parse(l) as TaskRow).sort((a, b) => a.Name.localeCompare(b.Name));
  const ipOf = (r: TaskRow): string => (r.Networks.split('=')[1] ?? '').split('/')[0] ?? '';
  const worker = bed.daemons.find((d) => d.role === 'worker') ?? bed.daemons[0]!;
  // Gossip brings every node the endpoints of the networks it has tasks on, within a second or two.
  await new Promise((r) => setTimeout(r, 2_000));
  say(`\n$ tsswarm -H unix://${worker.socket} network inspect --verbose demo-net   (${worker.host}'s own gossip view: its peers and the endpoints it knows)`);
  const view = JSON.parse(await tsswarm(worker.socket, 'network', 'inspect', '--verbose', 'demo-net')) as Array<{ Peers?: unknown; Services?: unknown }>;
  process.stdout.write(`${JSON.stringify({ Peers: view[0]?.Peers, Services: view[0]?.Services }, null, 2)}\n`);

  const first = rows[0];
  if (first !== undefined) {
    const host = bed.hosts.find((h) => h.name === first.Node);
    const sandbox = `${host?.runDir ?? ''}/netns/sb-${first.ID}`;
    say(`\nFrom task ${first.Name} on ${first.Node} (${ipOf(first)}), over demo-net (VXLAN between the hosts):`);
    for (const other of rows.slice(1)) {
      const { stdout } = await execFileP('nsenter', [`--net=${sandbox}`, process.execPath, '-e', CLIENT, ipOf(other)], { timeout: 10_000 });
      say(`  connect ${ipOf(other)}:${PORT} (${other.Name} on ${other.Node}) -> ${stdout.trim()}`);
    }
  }
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
