import type { Command } from 'commander';
import { formatDuration } from '../../../manager/controlapi/duration.js';
import type { ServiceSummary } from './service-api.js';
import { guarded } from '../guarded.js';
import { portsText, serviceMode, servicePorts } from './service-view.js';
import { withServiceApi } from './with-service-api.js';

/** `service inspect --pretty`: the human summary Docker prints. */
export function prettyService(s: ServiceSummary): string {
  const { service } = s;
  const spec = service.spec;
  const t = spec.task;
  const lines = [
    `ID:\t\t${service.id}`,
    `Name:\t\t${spec.annotations.name}`,
    ...Object.entries(spec.annotations.labels).map(([k, v]) => ` ${k}=${v}`),
    `Service Mode:\t${serviceMode(service) === 'global' ? 'Global' : 'Replicated'}`,
    ...(spec.replicated ? [` Replicas:\t${spec.replicated.replicas}`] : []),
    ...(service.updateStatus ? [`UpdateStatus:`, ` State:\t\t${service.updateStatus.state.toLowerCase()}`, ` Message:\t${service.updateStatus.message}`] : []),
    `Placement:`,
    ...(t.placement?.constraints.length ? [` Constraints:\t[${t.placement.constraints.join(' ')}]`] : []),
    ...(t.placement?.preferences.length ? [` Preferences:\t[${t.placement.preferences.map((p) => `spread=${p.spreadDescriptor}`).join(' ')}]`] : []),
    ...(['update', 'rollback'] as const).flatMap((which) => {
      const u = spec[which];
      if (!u) return [];
      return [
        `${which === 'update' ? 'UpdateConfig' : 'RollbackConfig'}:`,
        ` Parallelism:\t${u.parallelism}`,
        ...(u.delayMs > 0 ? [` Delay:\t\t${formatDuration(u.delayMs)}`] : []),
        ` On failure:\t${u.failureAction.toLowerCase()}`,
        ` Monitoring Period: ${formatDuration(u.monitorMs)}`,
        ` Max failure ratio: ${u.maxFailureRatio}`,
        ` Update order:      ${u.order.toLowerCase().replace('_', '-')}`,
      ];
    }),
    `ContainerSpec:`,
    ` Runtime:\t${t.runtime.toLowerCase()}`,
    ` Image:\t\t${t.image}`,
    ...(t.args.length ? [` Args:\t\t${t.args.join(' ')}`] : []),
    ...(t.env.length ? [` Env:\t\t${t.env.join(' ')}`] : []),
    ...(t.hostname ? [` Hostname:\t${t.hostname}`] : []),
    ...(t.dir ? [` Dir:\t\t${t.dir}`] : []),
    ...(t.user ? [` User:\t\t${t.user}`] : []),
    ...(t.healthcheck ? [` Healthcheck:\t${t.healthcheck.test.join(' ')}`] : []),
    ` Stop grace period: ${formatDuration(t.stopGracePeriodMs)}`,
    ...(t.restart ? [`RestartPolicy:`, ` Condition:\t${t.restart.condition.toLowerCase().replace('_', '-')}`, ` Delay:\t\t${formatDuration(t.restart.delayMs)}`, ` Max attempts:\t${t.restart.maxAttempts}`] : []),
    `Endpoint Mode:\t${(spec.endpoint?.mode ?? 'VIP').toLowerCase()}`,
    ...(servicePorts(service).length ? [`Ports:\t\t${portsText(servicePorts(service))}`] : []),
    ...(t.networks.length ? [`Networks:\t${t.networks.map((n) => n.target).join(' ')}`] : []),
    `Tasks:\t\t${s.running}/${s.desired} running`,
  ];
  return lines.join('\n') + '\n';
}

/** `tsswarm service inspect [--pretty] SERVICE...`: JSON (an array, as Docker) or a summary. */
export function registerServiceInspect(service: Command): void {
  service
    .command('inspect')
    .description('Display detailed information on one or more services')
    .argument('<service...>', 'service names or IDs')
    .option('--pretty', 'print a human-readable summary')
    .action(async (refs: string[], flags: { pretty?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const found = await withServiceApi(cmd, (api) => Promise.all(refs.map((ref) => api.getService({ ref }))));
        if (flags.pretty === true) process.stdout.write(found.map(prettyService).join('\n'));
        else process.stdout.write(`${JSON.stringify(found.map((s) => s.service), null, 2)}\n`);
      }),
    );
}
