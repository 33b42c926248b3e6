import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { listStates, readState } from '../../testbed/state.js';
import { clusterDown, clusterUp, daemonStatuses } from '../../testbed/cluster.js';
import { DEFAULT_ROOT, execArgv, hostByName } from '../../testbed/testbed.js';
import { table } from '../output.js';
import { guarded } from './guarded.js';

/**
 * `tsswarm cluster up|down|ls|exec`: virtual hosts on this machine for trying tsswarm out
 * (src/testbed): `up` builds the hosts and starts a daemon in each (init on h1, the others
 * joined), `down` removes all of it.
 */

const DEFAULT_NAME = 'tsswarm';

function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new TsswarmError('CONFIG_INVALID', { component: 'cluster', problems: `${value} is not an integer` });
  return n;
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('Virtual multi-host clusters on this machine, for trying tsswarm out');

  cluster
    .command('up')
    .description('Build N virtual hosts (a network namespace each, on an underlay bridge), start a daemon in each, init the first and join the rest')
    .option('--name <name>', 'cluster name', DEFAULT_NAME)
    .option('--nodes <n>', 'number of hosts', intOption, 3)
    .option('--managers <m>', 'how many of them are managers (h1..hM)', intOption, 1)
    .option('--subnet <cidr>', 'underlay subnet', '10.77.0.0/24')
    .option('--mtu <bytes>', 'underlay MTU', intOption, 1500)
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { name: string; nodes: number; managers: number; subnet: string; mtu: number; root: string }, command: Command) =>
      guarded(command, async () => {
        const st = await clusterUp({
          name: o.name,
          nodes: o.nodes,
          managers: o.managers,
          subnet: o.subnet,
          mtu: o.mtu,
          root: o.root,
          bin: { node: process.execPath, mainJs: fileURLToPath(new URL('../main.js', import.meta.url)) },
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        const rows = st.daemons.map((d) => [d.host, d.role, hostByName(st, d.host).address, `unix://${d.socket}`]);
        process.stdout.write(table(['HOST', 'ROLE', 'ADDRESS', 'SOCKET'], rows));
        const first = st.daemons[0];
        process.stdout.write(
          `\nCluster ${st.name}: ${st.hosts.length} hosts on ${st.subnet} (MTU ${st.mtu}), a daemon in each ` +
            `(logs in ${join(st.root, st.name, 'logs')}); the underlay namespace is ${st.gateway} and stands for the outside world at ${st.outsideAddr}.\n` +
            (first !== undefined ? `Use it:       tsswarm -H unix://${first.socket} node ls\n` : '') +
            `Run in host:  tsswarm cluster exec --name ${st.name} h1 -- CMD\n` +
            `Remove it:    tsswarm cluster down --name ${st.name}\n`,
        );
      }),
    );

  cluster
    .command('down')
    .description('Stop the daemons of a virtual cluster and remove it with everything in its namespaces (a missing one is fine)')
    .option('--name <name>', 'cluster name', DEFAULT_NAME)
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { name: string; root: string }, command: Command) =>
      guarded(command, async () => {
        const r = await clusterDown(o.name, o.root);
        if (!r.existed) process.stderr.write(`no cluster named ${o.name}: nothing to remove\n`);
        process.stdout.write(`${o.name}\n`);
      }),
    );

  cluster
    .command('ls')
    .description('List the virtual clusters on this machine and the state of their daemons')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'names only')
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { format: string; quiet?: boolean; root: string }, command: Command) =>
      guarded(command, async () => {
        const states = await listStates(o.root);
        if (o.quiet === true) {
          process.stdout.write(states.map((s) => `${s.name}\n`).join(''));
          return;
        }
        const withDaemons = await Promise.all(states.map(async (s) => ({ ...s, daemons: await daemonStatuses(s) })));
        if (o.format === 'json') process.stdout.write(JSON.stringify(withDaemons, null, 2) + '\n');
        else
          process.stdout.write(
            table(
              ['NAME', 'HOSTS', 'SUBNET', 'DAEMONS', 'CREATED'],
              withDaemons.map((s) => [
                s.name,
                s.hosts.map((h) => `${h.name}=${h.address}`).join(','),
                s.subnet,
                s.daemons.length === 0 ? 'none' : s.daemons.map((d) => `${d.host}:${d.role}:${d.running ? 'running' : 'stopped'}`).join(','),
                s.createdAt,
              ]),
            ),
          );
      }),
    );

  cluster
    .command('exec')
    .description('Run a command inside one virtual host (its network namespace)')
    .option('--name <name>', 'cluster name', DEFAULT_NAME)
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .argument('<host>', 'host name (h1, h2, ...) or address')
    .argument('<cmd...>', 'the command, after --')
    .action((host: string, cmd: string[], o: { name: string; root: string }, command: Command) =>
      guarded(command, async () => {
        const st = await readState(o.root, o.name);
        if (st === undefined) throw new TsswarmError('TESTBED_NOT_FOUND', { name: o.name });
        const [bin, ...args] = execArgv(hostByName(st, host), cmd);
        const child = spawn(bin as string, args, { stdio: 'inherit' });
        const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig !== null ? 128 : 1))));
        process.exitCode = code;
      }),
    );
}
