import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { listStates, readState } from '../../testbed/state.js';
import { DEFAULT_ROOT, execArgv, hostByName, testbedDown, testbedUp } from '../../testbed/testbed.js';
import { table } from '../output.js';
import { guarded } from './guarded.js';

/**
 * `tsswarm cluster up|down|ls|exec`: virtual hosts on this machine for trying tsswarm out
 * (src/testbed). `up` builds the hosts only: it starts no daemons in them yet.
 */

const DEFAULT_NAME = 'default';

function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new TsswarmError('CONFIG_INVALID', { component: 'cluster', problems: `${value} is not an integer` });
  return n;
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('Virtual multi-host clusters on this machine, for trying tsswarm out');

  cluster
    .command('up')
    .description('Build N virtual hosts (a network namespace each, joined by an underlay bridge)')
    .option('--name <name>', 'cluster name', DEFAULT_NAME)
    .option('--nodes <n>', 'number of hosts', intOption, 3)
    .option('--managers <m>', 'how many of them will be managers (used once the daemon exists)', intOption, 1)
    .option('--subnet <cidr>', 'underlay subnet', '10.77.0.0/24')
    .option('--mtu <bytes>', 'underlay MTU', intOption, 1500)
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { name: string; nodes: number; managers: number; subnet: string; mtu: number; root: string }, command: Command) =>
      guarded(command, async () => {
        const st = await testbedUp({ name: o.name, nodes: o.nodes, subnet: o.subnet, mtu: o.mtu, root: o.root });
        const rows = st.hosts.map((h, i) => [h.name, h.address, i < o.managers ? 'manager' : 'worker', `tsswarm cluster exec --name ${st.name} ${h.name} -- CMD`]);
        process.stdout.write(table(['HOST', 'ADDRESS', 'ROLE (planned)', 'RUN A COMMAND THERE'], rows));
        process.stdout.write(
          `\nCluster ${st.name}: ${st.hosts.length} hosts on ${st.subnet} (MTU ${st.mtu}); ` +
            `the underlay namespace is ${st.gateway} and stands for the outside world at ${st.outsideAddr}.\n` +
            'No daemons are started in the hosts yet (that comes with the next step of the daemon); only the hosts exist. Remove with ' +
            `\`tsswarm cluster down --name ${st.name}\`.\n`,
        );
      }),
    );

  cluster
    .command('down')
    .description('Remove a virtual cluster and everything in its namespaces')
    .option('--name <name>', 'cluster name', DEFAULT_NAME)
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { name: string; root: string }, command: Command) =>
      guarded(command, async () => {
        const existed = await testbedDown(o.name, o.root);
        if (!existed) throw new TsswarmError('TESTBED_NOT_FOUND', { name: o.name });
        process.stdout.write(`${o.name}\n`);
      }),
    );

  cluster
    .command('ls')
    .description('List the virtual clusters on this machine')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'names only')
    .option('--root <dir>', 'where test beds are kept', DEFAULT_ROOT)
    .action((o: { format: string; quiet?: boolean; root: string }, command: Command) =>
      guarded(command, async () => {
        const states = await listStates(o.root);
        if (o.quiet === true) process.stdout.write(states.map((s) => `${s.name}\n`).join(''));
        else if (o.format === 'json') process.stdout.write(JSON.stringify(states, null, 2) + '\n');
        else
          process.stdout.write(
            table(
              ['NAME', 'HOSTS', 'SUBNET', 'CREATED'],
              states.map((s) => [s.name, s.hosts.map((h) => `${h.name}=${h.address}`).join(','), s.subnet, s.createdAt]),
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
