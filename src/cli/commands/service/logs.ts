import type { Command } from 'commander';
import { guarded } from '../guarded.js';
import { withServiceApi } from './with-service-api.js';

/**
 * `tsswarm service logs [-f] [--no-trunc] [-t] SERVICE` (docker service logs): every task's
 * lines, each prefixed `<service>.<slot>.<task id>@<node>    | ` as Docker does, stdout lines
 * to stdout and stderr lines to stderr. -f follows until interrupted.
 */
export function registerServiceLogs(service: Command): void {
  service
    .command('logs')
    .description('Fetch the logs of a service\'s tasks')
    .argument('<service>', 'service name or ID')
    .option('-f, --follow', 'keep following the output')
    .option('-t, --timestamps', 'show timestamps')
    .option('--no-trunc', 'do not truncate task IDs')
    .action(async (ref: string, flags: { follow?: boolean; timestamps?: boolean; trunc?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await withServiceApi(cmd, async (api) => {
          for await (const l of api.serviceLogs({ ref, follow: flags.follow === true }, abort.signal)) {
            const id = flags.trunc === false ? l.taskId : l.taskId.slice(0, 12);
            const prefix = `${l.taskName}.${id}@${l.nodeHostname || l.nodeId}    | `;
            if (l.error !== '') {
              process.stderr.write(`${prefix}error: ${l.error}\n`);
              continue;
            }
            const time = flags.timestamps === true ? `${new Date(l.timestampMs).toISOString()} ` : '';
            (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${time}${prefix}${l.line}\n`);
          }
        });
      }),
    );
}
