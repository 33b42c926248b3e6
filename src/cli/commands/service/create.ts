import type { Command } from 'commander';
import { TsswarmError } from '../../../errors/index.js';
import type { DeepPartial, ServiceSpec } from '../../../objects/index.js';
import { normalizeServiceSpec } from '../../../manager/controlapi/service-spec.js';
import { guarded } from '../guarded.js';
import { waitForConvergence } from './converge.js';
import {
  addCommonServiceOptions, applyPolicyFlags, keyValues, publishFlags, repeatable, wholeFlag, type CommonServiceFlags,
} from './service-flags.js';
import { withServiceApi } from './with-service-api.js';

interface CreateFlags extends CommonServiceFlags {
  name?: string;
  mode?: string;
  publish?: string[];
  network?: string[];
  constraint?: string[];
  placementPref?: string[];
  label?: string[];
  entrypoint?: string;
}

/** `--placement-pref spread=node.labels.zone`: the only strategy Docker has is spread. */
export function placementPreference(value: string): { spreadDescriptor: string } {
  const m = /^spread=(.+)$/.exec(value);
  if (m === null) {
    throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--placement-pref', value: JSON.stringify(value), reason: 'it is spread=node.labels.KEY (spread is the only strategy)' });
  }
  return { spreadDescriptor: m[1]! };
}

/** The spec `service create` asks for (pure): flags + IMAGE + COMMAND ARGS. */
export function createSpec(flags: CreateFlags, image: string, args: readonly string[]): DeepPartial<ServiceSpec> {
  const mode = flags.mode ?? 'replicated';
  if (mode !== 'replicated' && mode !== 'global') {
    throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--mode', value: JSON.stringify(mode), reason: 'it is replicated or global' });
  }
  if (mode === 'global' && flags.replicas !== undefined) {
    throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--replicas', value: JSON.stringify(flags.replicas), reason: 'replicas can only be used with replicated mode' });
  }
  const base: DeepPartial<ServiceSpec> = {
    annotations: { name: flags.name ?? '', labels: keyValues('--label', flags.label) },
    task: {
      image,
      args: [...args],
      command: flags.entrypoint !== undefined ? [flags.entrypoint] : [],
      env: [...(flags.env ?? [])],
      placement: {
        constraints: [...(flags.constraint ?? [])],
        preferences: (flags.placementPref ?? []).map(placementPreference),
      },
      networks: (flags.network ?? []).map((target) => ({ target, aliases: [] })),
    },
    endpoint: { ports: publishFlags(flags.publish) },
  };
  const spec = applyPolicyFlags(flags, base);
  if (mode === 'global') spec.global = {};
  else spec.replicated = { replicas: wholeFlag('--replicas', flags.replicas) ?? 1 };
  return spec;
}

/** `tsswarm service create [OPTIONS] IMAGE [COMMAND] [ARG...]` (docker service create). */
export function registerServiceCreate(service: Command): void {
  const cmd = service
    .command('create')
    .description('Create a new service')
    .argument('<image>', 'program on the host\'s PATH (process runtime) or image (docker runtime)')
    .argument('[command...]', 'command and arguments')
    .option('--name <name>', 'service name')
    .option('--mode <mode>', 'replicated or global', 'replicated')
    .option('--entrypoint <program>', 'override the image\'s entrypoint (docker runtime)');
  repeatable(cmd, '-p, --publish <spec>', 'publish a port: published=8080,target=80[,protocol=udp][,mode=host] or 8080:80');
  repeatable(cmd, '--network <name>', 'attach to a network (repeatable)');
  repeatable(cmd, '--constraint <expr>', 'placement constraint, e.g. node.role==worker (repeatable)');
  repeatable(cmd, '--placement-pref <pref>', 'placement preference: spread=node.labels.KEY');
  repeatable(cmd, '-l, --label <K=V>', 'service label');
  addCommonServiceOptions(cmd);
  // Everything after IMAGE belongs to the task, flags included (`sh -c 'sleep 1'`).
  cmd.passThroughOptions();
  cmd.action(async (image: string, args: string[], flags: CreateFlags, c: Command) =>
    guarded(c, async () => {
      // Complete (Docker's defaults filled in) before it goes on the wire: proto3 cannot tell an
      // unset number from 0, so a restart delay left out would arrive as "no delay".
      const spec = normalizeServiceSpec(createSpec(flags, image, args));
      await withServiceApi(c, async (api) => {
        const { service: created } = await api.createService({ spec });
        process.stdout.write(`${created.id}\n`);
        if (flags.detach !== true && flags.quiet !== true) await waitForConvergence(api, created.id, (t) => process.stdout.write(t));
      });
    }),
  );
}
