/**
 * `npm run demo`: the main job on this one machine. Builds a 3-host virtual cluster (a network
 * namespace per host, one tsswarm daemon each: one manager, two workers), creates an overlay
 * network and a service of 3 replicas on it publishing port 8080 through the routing mesh
 * (each task `tsswarm whoami`, a tiny HTTP server on port 80 answering with its task name),
 * waits until they run, one per host, and shows `node ls`, `service ps`, a worker's gossip view
 * of the network, HTTP requests from outside the cluster to every host's address on 8080
 * (each host spreads them over all 3 tasks, wherever they run), requests from one task to the
 * service's VIP, and `service logs`. It leaves the cluster running for you to try the CLI on;
 * `tsswarm cluster down --name demo` removes everything. Run as root.
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
const PUBLISHED = 8080;
/** An HTTP GET run in a network namespace: prints the answering task's name (whoami's "Name:" line). */
const GET = [
  'const http = require("node:http");',
  'const req = http.get(process.argv[1], { timeout: 3000, agent: false }, (res) => { let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => console.log((/^Name: (.*)$/m.exec(b) || [])[1] || "no name")); });',
  'req.on("timeout", () => { console.log("timed out"); req.destroy(); });',
  'req.on("error", (e) => console.log("failed: " + (e.code || e.message)));',
].join("\n");

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
  say(`\n$ tsswarm service create --name web --replicas 3 --network demo-net -p published=${PUBLISHED},target=80 node tsswarm whoami --port 80`);
  process.stdout.write(await tsswarm(h1, 'service', 'create', '--name', 'web', '--replicas', '3', '--network', 'demo-net', '-p', `published=${PUBLISHED},target=80`, 'node', bin.mainJs, 'whoami', '--port', '80'));
  say(`\n$ tsswarm service ps web`);
  process.stdout.write(await tsswarm(h1, 'service', 'ps', 'web'));
  const rows = (await tsswarm(h1, 'service', 'ps', '--no-trunc', '--format', 'json', '-f', 'desired-state=running', 'web'))
    .trim().split('\n').map((l) => JSON.parse(l) as TaskRow).sort((a, b) => a.Name.localeCompare(b.Name));
  const worker = bed.daemons.find((d) => d.role === 'worker') ?? bed.daemons[0]!;
  // Gossip brings every node the endpoints of the networks it is on within a second or two.
  await new Promise((r) => setTimeout(r, 2_000));
  say(`\n$ tsswarm -H unix://${worker.socket} network inspect --verbose demo-net   (${worker.host}'s own gossip view: its peers and the endpoints it knows)`);
  const view = JSON.parse(await tsswarm(worker.socket, 'network', 'inspect', '--verbose', 'demo-net')) as Array<{ Peers?: unknown; Services?: unknown }>;
  process.stdout.write(`${JSON.stringify({ Peers: view[0]?.Peers, Services: view[0]?.Services }, null, 2)}\n`);

  const get = async (nsPath: string, url: string): Promise<string> => (await execFileP('nsenter', [`--net=${nsPath}`, process.execPath, '-e', GET, url], { timeout: 10_000 })).stdout.trim();
  const nodeOf = (taskName: string): string => rows.find((r) => taskName.startsWith(`${r.Name}.`))?.Node ?? '?';
  say(`\nThe routing mesh: from outside the cluster (the underlay namespace, ${bed.gateway}), 3 HTTP requests to each host's address on ${PUBLISHED}:`);
  for (const h of bed.hosts) {
    for (let i = 0; i < 3; i++) {
      const who = await get(bed.underlayNsPath, `http://${h.address}:${PUBLISHED}/`);
      say(`  GET http://${h.address}:${PUBLISHED}/ -> ${who} (on ${nodeOf(who)})`);
    }
  }
  const svc = JSON.parse(await tsswarm(h1, 'service', 'inspect', 'web')) as Array<{ endpoint?: { virtualIps?: Array<{ networkId?: string; addr?: string }> } }>;
  const net = JSON.parse(await tsswarm(h1, 'network', 'inspect', 'demo-net')) as Array<{ Id: string }>;
  const vip = svc[0]?.endpoint?.virtualIps?.find((v) => v.networkId === net[0]?.Id)?.addr?.split('/')[0];
  const first = rows[0];
  const firstHost = bed.hosts.find((h) => h.name === first?.Node);
  if (first !== undefined && firstHost !== undefined && vip !== undefined) {
    say(`\nThe service's VIP on demo-net, ${vip}: from task ${first.Name} on ${first.Node}, 3 requests to http://${vip}/:`);
    for (let i = 0; i < 3; i++) {
      const who = await get(`${firstHost.runDir}/netns/sb-${first.ID}`, `http://${vip}/`);
      say(`  GET http://${vip}/ -> ${who} (on ${nodeOf(who)})`);
    }
  }
  say(`\n$ tsswarm service logs web`);
  process.stdout.write(await tsswarm(h1, 'service', 'logs', 'web'));
  say(`\nThe cluster keeps running. Try, for example:`);
  say(`  node ${bin.mainJs} -H unix://${h1} service scale web=6`);
  say(`  node ${bin.mainJs} cluster exec --name ${NAME} h2 -- node -e "require('http').get('http://${bed.hosts[0]!.address}:${PUBLISHED}/', (r) => r.pipe(process.stdout))"`);
  say(`  node ${bin.mainJs} cluster ls`);
  say(`Remove it with: node ${bin.mainJs} cluster down --name ${NAME}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
