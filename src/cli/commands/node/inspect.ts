import type { Command } from 'commander';
import type { Node } from '../../../manager/store/index.js';
import { withDaemon } from '../../daemon-client.js';
import { titleCase } from '../../output.js';
import { guarded } from '../guarded.js';
import { managerStatusText } from './node-view.js';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Math.round(v * 100) / 100}${units[i]}`;
}

/** `node inspect --pretty`, laid out as Docker's. */
function pretty(n: Node): string {
  const d = n.description;
  const lines = [
    `ID:\t\t\t${n.id}`,
    ...(n.spec.annotations.name === '' ? [] : [`Name:\t\t\t${n.spec.annotations.name}`]),
    ...Object.entries(n.spec.annotations.labels).map(([k, v]) => ` - ${k}=${v}`),
    `Hostname:\t\t${d?.hostname ?? ''}`,
    `Joined at:\t\t${new Date(n.meta.createdAtMs).toISOString()}`,
    'Status:',
    ` State:\t\t\t${titleCase(n.status?.state ?? 'UNKNOWN')}`,
    ` Availability:\t\t${titleCase(n.spec.availability)}`,
    ` Address:\t\t${n.status?.addr ?? ''}`,
  ];
  if (n.managerStatus !== undefined && n.managerStatus !== null) {
    lines.push('Manager Status:', ` Address:\t\t${n.managerStatus.addr}`, ` Raft Status:\t\t${managerStatusText(n) === 'Leader' ? 'Reachable' : managerStatusText(n)}`);
    lines.push(` Leader:\t\t${n.managerStatus.leader ? 'Yes' : 'No'}`);
  }
  lines.push(
    'Platform:',
    ` Operating System:\t${d?.platform?.os ?? ''}`,
    ` Architecture:\t\t${d?.platform?.architecture ?? ''}`,
    'Resources:',
    ` CPUs:\t\t\t${(d?.resources?.nanoCpus ?? 0) / 1e9}`,
    ` Memory:\t\t${bytes(d?.resources?.memoryBytes ?? 0)}`,
    `Engine Version:\t\t${d?.engineVersion ?? ''}`,
  );
  if (n.certificate !== undefined && n.certificate.certPem !== '') lines.push('TLS Info:', ` Certificate State:\t${titleCase(n.certificate.state)}`);
  return lines.join('\n') + '\n';
}

/** `tsswarm node inspect [--pretty] NODE...` by ID, ID prefix, hostname or "self". */
export function registerNodeInspect(node: Command): void {
  node
    .command('inspect')
    .description('Show details of one or more nodes')
    .argument('<node...>', 'node ID, ID prefix, hostname, or "self"')
    .option('--pretty', 'print a human-readable summary instead of JSON')
    .action(async (refs: string[], flags: { pretty?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const nodes = await withDaemon(cmd, async (c) => {
          const found: Node[] = [];
          for (const ref of refs) found.push((await c.getNode({ ref })).node);
          return found;
        });
        if (flags.pretty === true) process.stdout.write(nodes.map(pretty).join('\n'));
        else process.stdout.write(`${JSON.stringify(nodes, null, 4)}\n`);
      }),
    );
}
