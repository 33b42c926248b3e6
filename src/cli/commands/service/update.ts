import type { Command } from 'commander';
import { TsswarmError } from '../../../errors/index.js';
import type { DeepPartial, PortConfig, ServiceSpec } from '../../../objects/index.js';
import { normalizeServiceSpec } from '../../../manager/controlapi/service-spec.js';
import { withoutNulls } from '../../../util/without-nulls.js';
import { guarded } from '../guarded.js';
import { waitForConvergence } from './converge.js';
import { parsePublish, parsePublishRemoval } from './publish.js';
import { addCommonServiceOptions, applyPolicyFlags, keyValues, repeatable, wholeFlag, type CommonServiceFlags } from './service-flags.js';
import { withServiceApi } from './with-service-api.js';

interface UpdateFlags extends CommonServiceFlags {
  image?: string;
  force?: boolean;
  rollback?: boolean;
  envAdd?: string[];
  envRm?: string[];
  publishAdd?: string[];
  publishRm?: string[];
  networkAdd?: string[];
  networkRm?: string[];
  constraintAdd?: string[];
  constraintRm?: string[];
  labelAdd?: string[];
  labelRm?: string[];
}

const envKey = (entry: string): string => entry.split('=')[0]!;

/**
 * The spec `service update` asks for (pure): the current spec with the flags applied, in
 * Docker's way (adds replace entries with the same key, removes name keys).
 */
export function updatedSpec(current: ServiceSpec, flags: UpdateFlags): DeepPartial<ServiceSpec> {
  if (flags.env !== undefined) {
    throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--env', value: JSON.stringify(flags.env), reason: 'service update changes variables with --env-add and --env-rm' });
  }
  const task = current.task;
  const removeEnv = new Set([...(flags.envRm ?? []), ...(flags.envAdd ?? []).map(envKey)]);
  const env = [...task.env.filter((e) => !removeEnv.has(envKey(e))), ...(flags.envAdd ?? [])];

  const removals = (flags.publishRm ?? []).map(parsePublishRemoval);
  const removed = (p: PortConfig): boolean => removals.some((r) => r.publishedPort === p.publishedPort && (r.protocol === undefined || r.protocol === p.protocol));
  const added = (flags.publishAdd ?? []).map(parsePublish);
  const addedKey = new Set(added.map((p) => `${p.publishedPort}/${p.protocol}`));
  const ports = [...(current.endpoint?.ports ?? []).filter((p) => !removed(p) && !addedKey.has(`${p.publishedPort}/${p.protocol}`)), ...added];

  // The stored spec names networks by ID; the caller resolved --network-rm's names to IDs too.
  const networkRm = new Set(flags.networkRm ?? []);
  const networks = [...task.networks.filter((n) => !networkRm.has(n.target)), ...(flags.networkAdd ?? []).map((target) => ({ target, aliases: [] }))];

  const constraintRm = new Set(flags.constraintRm ?? []);
  const constraints = [...(task.placement?.constraints ?? []).filter((c) => !constraintRm.has(c)), ...(flags.constraintAdd ?? [])];

  const labels = { ...current.annotations.labels, ...keyValues('--label-add', flags.labelAdd) };
  for (const k of flags.labelRm ?? []) delete labels[k];

  const base: DeepPartial<ServiceSpec> = {
    ...current,
    annotations: { ...current.annotations, labels },
    task: {
      ...task,
      image: flags.image ?? task.image,
      env,
      networks,
      placement: { ...(task.placement ?? {}), constraints },
      forceUpdate: task.forceUpdate + (flags.force === true ? 1 : 0),
    },
    endpoint: { ...(current.endpoint ?? {}), ports },
  };
  const spec = applyPolicyFlags(flags, base);
  const replicas = wholeFlag('--replicas', flags.replicas);
  if (replicas !== undefined) {
    if (current.global !== undefined && current.global !== null) {
      throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--replicas', value: JSON.stringify(flags.replicas), reason: 'replicas can only be used with replicated mode' });
    }
    spec.replicated = { replicas };
  }
  return spec;
}

/** `tsswarm service update [OPTIONS] SERVICE` (docker service update). */
export function registerServiceUpdate(service: Command): void {
  const cmd = service
    .command('update')
    .description('Update a service')
    .argument('<service>', 'service name or ID')
    .option('--image <image>', 'program or image to run')
    .option('--force', 'update the tasks even if nothing changed')
    .option('--rollback', 'roll back to the previous spec');
  for (const [flag, what] of [
    ['--env-add <K=V>', 'add or change a variable'], ['--env-rm <K>', 'remove a variable'],
    ['--publish-add <spec>', 'publish a port'], ['--publish-rm <port>', 'stop publishing a port'],
    ['--network-add <name>', 'attach to a network'], ['--network-rm <name>', 'detach from a network'],
    ['--constraint-add <expr>', 'add a placement constraint'], ['--constraint-rm <expr>', 'remove a placement constraint'],
    ['--label-add <K=V>', 'add or change a service label'], ['--label-rm <K>', 'remove a service label'],
  ] as const) repeatable(cmd, flag, what);
  addCommonServiceOptions(cmd);
  cmd.action(async (ref: string, flags: UpdateFlags, c: Command) =>
    guarded(c, async () => {
      await withServiceApi(c, async (api) => {
        if (flags.rollback === true) {
          const { service: s } = await api.rollbackService({ ref });
          process.stdout.write(`${s.spec.annotations.name}\n`);
        } else {
          const { service: current } = await api.getService({ ref });
          // --network-rm takes names or IDs, the stored spec holds IDs: each is looked up (an
          // unknown network is NETWORK_NOT_FOUND) and both forms are removed.
          const networkRm = await Promise.all((flags.networkRm ?? []).map(async (r) => [r, (await api.getNetwork({ ref: r, verbose: false })).network.id]));
          // Complete before it goes on the wire (see create.ts).
          const spec = normalizeServiceSpec(withoutNulls(updatedSpec(current.spec, { ...flags, networkRm: networkRm.flat() })));
          const { service: s } = await api.updateService({ ref: current.id, version: current.meta.version, spec });
          process.stdout.write(`${s.spec.annotations.name}\n`);
        }
        if (flags.detach !== true && flags.quiet !== true) await waitForConvergence(api, ref, (t) => process.stdout.write(t), flags.rollback === true ? 'rollback' : 'update');
      });
    }),
  );
}
