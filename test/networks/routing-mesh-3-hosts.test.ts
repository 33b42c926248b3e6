/**
 * The routing mesh and VIP load balancing through the real CLI and daemons of a 3-node
 * cluster on virtual hosts (a network namespace per host, one daemon each): `service create
 * -p published=8080,target=80` of `tsswarm whoami` tasks, then HTTP to every host's address on
 * 8080 reaches all the tasks wherever they run; a second service reaches the first through its
 * VIP on a user network; scaling down and removal take effect on every host. Everything is
 * removed by clusterDown, also when a test fails.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestbedCluster, compiledCli, eventually } from '../support/testbed-cli.js';

const execFileP = promisify(execFile);
const tc = new TestbedCluster('t-mesh', '/run/tsswarm-test');
const SUBNET = '10.86.0.0/24';
const HOSTS = ['h1', 'h2', 'h3'];
/** Each task serves HTTP on port 80 and answers with its task name (TSSWARM_TASK_NAME). */
const whoami = [compiledCli.node, compiledCli.mainJs, 'whoami', '--port', '80'];

const cli = tc.cli.bind(tc);
const ok = tc.ok.bind(tc);

interface PsRow { ID: string; Name: string; Node: string; CurrentState: string }

async function runningTasks(service: string): Promise<PsRow[]> {
  const out = await ok('h1', 'service', 'ps', '--no-trunc', '--format', 'json', '-f', 'desired-state=running', service);
  const rows = out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l) as PsRow);
  return rows.filter((r) => r.CurrentState.startsWith('Running'));
}

/** An HTTP GET in node (busybox's static wget crashes here), printing the body; exit 1 with the error code. */
const GET = [
  'const http = require("node:http");',
  'const req = http.get(process.argv[1], { timeout: 3000, agent: false }, (res) => { let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => process.stdout.write(b)); });',
  'req.on("timeout", () => { console.error("timeout"); req.destroy(); process.exit(1); });',
  'req.on("error", (e) => { console.error(e.code ?? e.message); process.exit(1); });',
].join('\n');

/** One HTTP GET from a network namespace; the task's name that answered, or "(failed: why)". */
async function whoAnswers(nsPath: string, url: string): Promise<string> {
  try {
    const { stdout } = await execFileP('nsenter', [`--net=${nsPath}`, process.execPath, '-e', GET, url], { timeout: 20_000 });
    // The full task name, <service>.<slot>.<task ID>; `service ps` names it <service>.<slot>.
    return /^Name: (\S+?)\.[0-9a-z]{25}$/m.exec(stdout)?.[1] ?? `(failed: no task name in ${JSON.stringify(stdout.slice(0, 200))})`;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    return `(failed: ${(err.stderr ?? err.message ?? '').trim().slice(0, 200)})`;
  }
}

/** The task names that answer `n` requests in a row (one new connection each). */
async function answers(nsPath: string, url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await whoAnswers(nsPath, url));
  return out;
}

const distinct = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

beforeAll(async () => {
  await tc.up({ nodes: 3, managers: 1, subnet: SUBNET });
  await eventually('3 ready nodes', () => ok('h1', 'node', 'ls', '--format', 'json'), (o) => o.trim().split('\n').filter((l) => l.includes('"Ready"')).length === 3);
}, 240_000);

afterAll(async () => {
  await tc.down();
}, 120_000);

describe('the routing mesh and VIPs on 3 hosts', () => {
  let names: string[] = [];

  it('publishes 8080 on every host: each host\'s address reaches all 3 tasks, wherever they run', async () => {
    await ok('h1', 'network', 'create', '--subnet', '10.61.0.0/24', 'app');
    await ok('h1', 'service', 'create', '--detach', '--name', 'web', '--replicas', '3', '--network', 'app', '-p', 'published=8080,target=80', ...whoami);
    const tasks = await eventually('3 web tasks running', () => runningTasks('web'), (t) => t.length === 3);
    expect(tasks.map((t) => t.Node).sort()).toEqual(HOSTS);
    names = tasks.map((t) => t.Name).sort();
    const inspect = JSON.parse(await ok('h1', 'service', 'inspect', 'web')) as Array<{ endpoint?: { ports?: Array<{ publishedPort?: number; targetPort?: number }> } }>;
    expect(inspect[0]?.endpoint?.ports?.[0]).toMatchObject({ publishedPort: 8080, targetPort: 80 });

    // From h1's host namespace to every host's address (h1's own: the locally made connection).
    const from = tc.host('h1').nsPath;
    for (const h of HOSTS) {
      const url = `http://${tc.host(h).address}:8080/`;
      await eventually(`${url} answers`, () => whoAnswers(from, url), (who) => names.includes(who));
      const seen = await eventually(`${url} reaches all 3 tasks`, () => answers(from, url, 12), (xs) => distinct(xs).join() === names.join());
      expect(seen.filter((who) => !names.includes(who))).toEqual([]);
    }
    // And from another host's namespace: the connection arrives from outside h3.
    const url3 = `http://${tc.host('h3').address}:8080/`;
    expect(distinct(await eventually('h2 -> h3:8080 reaches all', () => answers(tc.host('h2').nsPath, url3, 12), (xs) => distinct(xs).join() === names.join()))).toEqual(names);
  }, 300_000);

  it('a service reaches another through its VIP on their network, spread over all its tasks', async () => {
    const doc = JSON.parse(await ok('h1', 'service', 'inspect', 'web')) as Array<{ endpoint?: { virtualIps?: Array<{ networkId?: string; addr?: string }> } }>;
    const app = (JSON.parse(await ok('h1', 'network', 'inspect', 'app')) as Array<{ Id: string }>)[0]!.Id;
    const vip = doc[0]?.endpoint?.virtualIps?.find((v) => v.networkId === app)?.addr?.split('/')[0];
    expect(vip).toMatch(/^10\.61\.0\.\d+$/);
    await ok('h1', 'service', 'create', '--detach', '--name', 'client', '--network', 'app', '--constraint', 'node.hostname==h2', 'sleep', '100000');
    const [client] = await eventually('client running', () => runningTasks('client'), (t) => t.length === 1);
    const sandbox = `${tc.host('h2').runDir}/netns/sb-${client!.ID}`;
    const url = `http://${vip}:80/`;
    const seen = await eventually(`${url} from the client reaches all 3 tasks`, () => answers(sandbox, url, 12), (xs) => distinct(xs).join() === names.join());
    expect(seen.filter((who) => !names.includes(who))).toEqual([]);
  }, 240_000);

  it('scaled down to 2, no host sends to the removed task; removed, no host answers on 8080', async () => {
    await ok('h1', 'service', 'scale', '--detach', 'web=2');
    const left = await eventually('2 web tasks running', () => runningTasks('web'), (t) => t.length === 2);
    const two = left.map((t) => t.Name).sort();
    const from = tc.host('h1').nsPath;
    for (const h of HOSTS) {
      const url = `http://${tc.host(h).address}:8080/`;
      await eventually(`${url} reaches only the 2 tasks left`, () => answers(from, url, 10), (xs) => distinct(xs).join() === two.join());
    }
    const r = await cli('h1', 'service', 'rm', 'web');
    expect(r.code).toBe(0);
    for (const h of HOSTS) {
      const url = `http://${tc.host(h).address}:8080/`;
      await eventually(`${url} refused after rm`, () => whoAnswers(from, url), (who) => who.startsWith('(failed'));
    }
  }, 240_000);
});
