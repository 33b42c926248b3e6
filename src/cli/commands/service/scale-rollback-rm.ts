import type { Command } from 'commander';
import { TsswarmError } from '../../../errors/index.js';
import { guarded } from '../guarded.js';
import { waitForConvergence } from './converge.js';
import { withServiceApi } from './with-service-api.js';

/** `SERVICE=N` as `docker service scale` takes it. */
export function parseScaleArg(arg: string): { ref: string; replicas: number } {
  const m = /^([^=]+)=(\d+)$/.exec(arg);
  if (m === null) {
    throw new TsswarmError('SERVICE_INVALID_OPTION', { option: 'SERVICE=REPLICAS', value: JSON.stringify(arg), reason: 'each argument is a service name or ID, "=", and a whole number of replicas' });
  }
  return { ref: m[1]!, replicas: Number(m[2]) };
}

export function registerServiceScale(service: Command): void {
  service
    .command('scale')
    .description('Scale one or more replicated services')
    .argument('<service=replicas...>', 'e.g. web=5')
    .option('-d, --detach', 'return at once instead of waiting for the tasks to converge')
    .action(async (args: string[], flags: { detach?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        // Every argument is checked before anything is scaled.
        const wanted = args.map(parseScaleArg);
        await withServiceApi(cmd, async (api) => {
          for (const { ref, replicas } of wanted) {
            const { service: s } = await api.scaleService({ ref, replicas });
            process.stdout.write(`${s.spec.annotations.name} scaled to ${replicas}\n`);
          }
          if (flags.detach !== true) for (const { ref } of wanted) await waitForConvergence(api, ref, (t) => process.stdout.write(t));
        });
      }),
    );
}

export function registerServiceRollback(service: Command): void {
  service
    .command('rollback')
    .description('Revert a service to its previous spec')
    .argument('<service>', 'service name or ID')
    .option('-d, --detach', 'return at once instead of waiting for the tasks to converge')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (ref: string, flags: { detach?: boolean; quiet?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        await withServiceApi(cmd, async (api) => {
          const { service: s } = await api.rollbackService({ ref });
          if (flags.quiet !== true) process.stdout.write(`${s.spec.annotations.name}\n`);
          if (flags.detach !== true && flags.quiet !== true) await waitForConvergence(api, s.id, (t) => process.stdout.write(t), 'rollback');
        });
      }),
    );
}

export function registerServiceRm(service: Command): void {
  service
    .command('rm')
    .alias('remove')
    .description('Remove one or more services')
    .argument('<service...>', 'service names or IDs')
    .action(async (refs: string[], _flags: unknown, cmd: Command) =>
      guarded(cmd, async () => {
        const { names } = await withServiceApi(cmd, (api) => api.removeServices({ refs }));
        process.stdout.write(names.map((n) => `${n}\n`).join(''));
      }),
    );
}
