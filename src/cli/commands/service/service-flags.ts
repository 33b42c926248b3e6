import { Option, type Command } from 'commander';
import { TsswarmError } from '../../../errors/index.js';
import { parseDuration } from '../../../manager/controlapi/duration.js';
import type { DeepPartial, HealthConfig, RestartPolicy, ServiceSpec, TaskSpec, UpdateConfig } from '../../../objects/index.js';
import { parsePublish } from './publish.js';

/** The flags `service create` and `service update` share, as commander hands them over. */
export interface CommonServiceFlags {
  env?: string[];
  hostname?: string;
  workdir?: string;
  user?: string;
  runtime?: string;
  endpointMode?: string;
  replicas?: string;
  replicasMaxPerNode?: string;
  restartCondition?: string;
  restartDelay?: string;
  restartMaxAttempts?: string;
  restartWindow?: string;
  stopGracePeriod?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthcheck?: boolean;
  detach?: boolean;
  quiet?: boolean;
  [updateOrRollbackFlag: string]: unknown;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds a repeatable option (`-e A=1 -e B=2`). */
export function repeatable(cmd: Command, flags: string, description: string): void {
  cmd.option(flags, description, collect);
}

type UpdateKey = 'parallelism' | 'delay' | 'failure-action' | 'monitor' | 'max-failure-ratio' | 'order';

/** Options both `create` and `update` take (CLI.md's list). */
export function addCommonServiceOptions(cmd: Command): void {
  repeatable(cmd, '-e, --env <K=V>', 'set an environment variable (repeatable)');
  cmd
    .option('--hostname <template>', 'task hostname, e.g. "{{.Service.Name}}-{{.Task.Slot}}"')
    .option('-w, --workdir <dir>', 'working directory inside the task')
    .option('-u, --user <user>', 'user the task runs as')
    .addOption(new Option('--runtime <runtime>', 'how tasks run: process (a program on the host) or docker (an image)').choices(['process', 'docker']))
    .addOption(new Option('--endpoint-mode <mode>', 'vip or dnsrr').choices(['vip', 'dnsrr']))
    .option('--replicas <n>', 'number of tasks (replicated mode)')
    .option('--replicas-max-per-node <n>', 'most tasks of this service on one node (0 = no limit)')
    .addOption(new Option('--restart-condition <condition>', 'restart when a task exits').choices(['any', 'on-failure', 'none']))
    .option('--restart-delay <duration>', 'wait between restart attempts (default 5s)')
    .option('--restart-max-attempts <n>', 'give up after this many restarts (default 0 = never)')
    .option('--restart-window <duration>', 'window in which restarts count against the maximum')
    .option('--stop-grace-period <duration>', 'time between the stop signal and SIGKILL (default 10s)')
    .option('--health-cmd <command>', 'command (run by the shell) that checks the task\'s health')
    .option('--health-interval <duration>', 'time between health checks (default 30s)')
    .option('--health-timeout <duration>', 'time a health check may take (default 30s)')
    .option('--health-retries <n>', 'consecutive failures that make a task unhealthy (default 3)')
    .option('--health-start-period <duration>', 'failures during this time after start do not count')
    .option('--no-healthcheck', 'disable any health check')
    .option('-d, --detach', 'return at once instead of waiting for the tasks to converge')
    .option('-q, --quiet', 'print the service ID only');
  for (const which of ['update', 'rollback'] as const) {
    cmd
      .option(`--${which}-parallelism <n>`, `tasks ${which}d at once (0 = all)`)
      .option(`--${which}-delay <duration>`, `wait between ${which} batches`)
      .addOption(new Option(`--${which}-failure-action <action>`, `what a failed ${which} does`).choices(which === 'update' ? ['pause', 'continue', 'rollback'] : ['pause', 'continue']))
      .option(`--${which}-monitor <duration>`, 'how long after a task starts a failure counts (default 5s)')
      .option(`--${which}-max-failure-ratio <ratio>`, 'failures tolerated, 0 to 1')
      .addOption(new Option(`--${which}-order <order>`, 'stop-first or start-first').choices(['stop-first', 'start-first']));
  }
}

function invalid(option: string, value: unknown, reason: string): TsswarmError {
  return new TsswarmError('SERVICE_INVALID_OPTION', { option, value: JSON.stringify(value), reason });
}

export function durationFlag(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw invalid(option, text, 'it is a duration such as 500ms, 5s or 1m30s');
  return ms;
}

export function wholeFlag(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw invalid(option, text, 'it is a whole number, zero or more');
  return Number(text);
}

function ratioFlag(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw invalid(option, text, 'it is a number between 0 and 1');
  return n;
}

/** KEY=VALUE pairs (labels); a bare KEY means an empty value, as Docker. */
export function keyValues(option: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '') throw invalid(option, v, 'it is KEY=VALUE with a non-empty KEY');
    out[key] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

const enumName = (text: string): string => text.toUpperCase().replace(/-/g, '_');

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The restart, health and update settings the flags set, merged over `base`. */
export function applyPolicyFlags(flags: CommonServiceFlags, base: DeepPartial<ServiceSpec>): DeepPartial<ServiceSpec> {
  const restart: DeepPartial<RestartPolicy> = {
    ...(base.task?.restart ?? {}),
    ...defined({
      condition: flags.restartCondition !== undefined ? (enumName(flags.restartCondition) as RestartPolicy['condition']) : undefined,
      delayMs: durationFlag('--restart-delay', flags.restartDelay),
      maxAttempts: wholeFlag('--restart-max-attempts', flags.restartMaxAttempts),
      windowMs: durationFlag('--restart-window', flags.restartWindow),
    }),
  };
  let healthcheck: DeepPartial<HealthConfig> | undefined = base.task?.healthcheck;
  if (flags.healthcheck === false) healthcheck = { test: ['NONE'] };
  else if (flags.healthCmd !== undefined || healthcheck !== undefined || flags.healthInterval !== undefined) {
    healthcheck = {
      ...(healthcheck ?? {}),
      ...defined({
        test: flags.healthCmd !== undefined ? ['CMD-SHELL', flags.healthCmd] : undefined,
        intervalMs: durationFlag('--health-interval', flags.healthInterval),
        timeoutMs: durationFlag('--health-timeout', flags.healthTimeout),
        retries: wholeFlag('--health-retries', flags.healthRetries),
        startPeriodMs: durationFlag('--health-start-period', flags.healthStartPeriod),
      }),
    };
  }
  const updateConfig = (which: 'update' | 'rollback'): DeepPartial<UpdateConfig> => {
    const flag = (key: UpdateKey): string | undefined => {
      const camel = `${which}-${key}`.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const v = flags[camel];
      return typeof v === 'string' ? v : undefined;
    };
    const action = flag('failure-action');
    const order = flag('order');
    return {
      ...(base[which] ?? {}),
      ...defined({
        parallelism: wholeFlag(`--${which}-parallelism`, flag('parallelism')),
        delayMs: durationFlag(`--${which}-delay`, flag('delay')),
        failureAction: action !== undefined ? (enumName(action) as UpdateConfig['failureAction']) : undefined,
        monitorMs: durationFlag(`--${which}-monitor`, flag('monitor')),
        maxFailureRatio: ratioFlag(`--${which}-max-failure-ratio`, flag('max-failure-ratio')),
        order: order !== undefined ? (enumName(order) as UpdateConfig['order']) : undefined,
      }),
    };
  };
  const task: DeepPartial<TaskSpec> = {
    ...(base.task ?? {}),
    ...defined({
      hostname: flags.hostname,
      dir: flags.workdir,
      user: flags.user,
      runtime: flags.runtime !== undefined ? (enumName(flags.runtime) as TaskSpec['runtime']) : undefined,
      stopGracePeriodMs: durationFlag('--stop-grace-period', flags.stopGracePeriod),
    }),
    restart,
  };
  if (healthcheck !== undefined) task.healthcheck = healthcheck;
  const maxPerNode = wholeFlag('--replicas-max-per-node', flags.replicasMaxPerNode);
  if (maxPerNode !== undefined) task.placement = { ...(task.placement ?? {}), maxReplicas: maxPerNode };
  const spec: DeepPartial<ServiceSpec> = { ...base, task, update: updateConfig('update'), rollback: updateConfig('rollback') };
  if (flags.endpointMode !== undefined) {
    spec.endpoint = { ...(base.endpoint ?? {}), mode: enumName(flags.endpointMode) as 'VIP' | 'DNSRR' };
  }
  return spec;
}

/** `-p` values, each parsed (SERVICE_INVALID_OPTION on the first bad one). */
export function publishFlags(values: readonly string[] | undefined): ReturnType<typeof parsePublish>[] {
  return (values ?? []).map(parsePublish);
}
