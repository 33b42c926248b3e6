import { TsswarmError } from '../../errors/index.js';
import type {
  DeepPartial, EndpointSpec, HealthConfig, PortConfig, RestartPolicy, ServiceSpec, TaskSpec, UpdateConfig,
} from '../../objects/index.js';

/**
 * The service defaults a Docker Swarm user expects (swarmkit api/defaults and the docker CLI),
 * filled in by the control API so that the stored spec says exactly what will happen and
 * `service inspect` shows it.
 */
export const SERVICE_DEFAULTS = {
  /** One replica when neither --replicas nor --mode global is given, as Docker. */
  replicas: 1,
  /** Docker's --stop-grace-period: 10 s between the stop signal and SIGKILL. */
  stopGracePeriodMs: 10_000,
  /** Docker: restart on any exit, 5 s apart, without limit. */
  restart: { condition: 'ANY', delayMs: 5_000, maxAttempts: 0, windowMs: 0 } satisfies RestartPolicy,
  /**
   * Docker: one task at a time, no delay between batches, pause on failure, watch each new
   * task 5 s for a failure, tolerate no failures, stop the old task before starting the new.
   */
  update: { parallelism: 1, delayMs: 0, failureAction: 'PAUSE', monitorMs: 5_000, maxFailureRatio: 0, order: 'STOP_FIRST' } satisfies UpdateConfig,
  /** Docker's health check timings: every 30 s, 30 s to answer, unhealthy after 3 failures. */
  health: { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 },
} as const;

/** Names become DNS names on service networks, so swarmkit holds them to one DNS label. */
const SERVICE_NAME = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/;
const MAX_NAME_LENGTH = 63;
const ENV_KEY = /^[^=\s][^=]*$/;

function invalid(option: string, value: unknown, reason: string): TsswarmError {
  return new TsswarmError('SERVICE_INVALID_OPTION', { option, value: JSON.stringify(value), reason });
}

function nonNegative(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw invalid(option, value, 'it must be zero or more');
  return v;
}

function wholeNonNegative(option: string, value: number | undefined, fallback: number): number {
  const v = nonNegative(option, value, fallback);
  if (!Number.isInteger(v)) throw invalid(option, value, 'it must be a whole number');
  return v;
}

export function checkServiceName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) throw invalid('--name', name, `a service name has at most ${MAX_NAME_LENGTH} characters (it is a DNS label)`);
  if (!SERVICE_NAME.test(name)) {
    throw invalid('--name', name, 'a service name is letters, digits, "-" and "_", starting and ending with a letter or digit (it is a DNS label)');
  }
}

function normalizeRestart(input: DeepPartial<RestartPolicy> | undefined): RestartPolicy {
  const d = SERVICE_DEFAULTS.restart;
  const condition = input?.condition ?? d.condition;
  if (!['ANY', 'ON_FAILURE', 'NONE'].includes(condition)) throw invalid('--restart-condition', condition, 'it is one of any, on-failure, none');
  return {
    condition,
    delayMs: nonNegative('--restart-delay', input?.delayMs, d.delayMs),
    maxAttempts: wholeNonNegative('--restart-max-attempts', input?.maxAttempts, d.maxAttempts),
    windowMs: nonNegative('--restart-window', input?.windowMs, d.windowMs),
  };
}

/** `prefix` is "update" or "rollback", naming the flags in errors. */
export function normalizeUpdateConfig(prefix: string, input: DeepPartial<UpdateConfig> | undefined): UpdateConfig {
  const d = SERVICE_DEFAULTS.update;
  const failureAction = input?.failureAction ?? d.failureAction;
  if (!['PAUSE', 'CONTINUE', 'ROLLBACK'].includes(failureAction)) {
    throw invalid(`--${prefix}-failure-action`, failureAction, 'it is one of pause, continue, rollback');
  }
  if (prefix === 'rollback' && failureAction === 'ROLLBACK') {
    throw invalid('--rollback-failure-action', 'rollback', 'a failed rollback can pause or continue, not roll back again');
  }
  const order = input?.order ?? d.order;
  if (!['STOP_FIRST', 'START_FIRST'].includes(order)) throw invalid(`--${prefix}-order`, order, 'it is one of stop-first, start-first');
  const maxFailureRatio = input?.maxFailureRatio ?? d.maxFailureRatio;
  if (!(maxFailureRatio >= 0 && maxFailureRatio <= 1)) throw invalid(`--${prefix}-max-failure-ratio`, maxFailureRatio, 'it is a fraction between 0 and 1');
  return {
    parallelism: wholeNonNegative(`--${prefix}-parallelism`, input?.parallelism, d.parallelism),
    delayMs: nonNegative(`--${prefix}-delay`, input?.delayMs, d.delayMs),
    failureAction,
    monitorMs: nonNegative(`--${prefix}-monitor`, input?.monitorMs, d.monitorMs),
    maxFailureRatio,
    order,
  };
}

function normalizeHealth(input: DeepPartial<HealthConfig> | undefined): HealthConfig | undefined {
  if (input === undefined) return undefined;
  const test = [...(input.test ?? [])];
  const kind = test[0];
  if (kind !== undefined && !['CMD', 'CMD-SHELL', 'NONE'].includes(kind)) {
    throw invalid('--health-cmd', test, 'a health check test starts with CMD, CMD-SHELL or NONE');
  }
  if ((kind === 'CMD' || kind === 'CMD-SHELL') && (test.length < 2 || test[1] === '')) throw invalid('--health-cmd', test, 'the health check names no command');
  const d = SERVICE_DEFAULTS.health;
  const ms = (option: string, v: number | undefined, fallback: number): number => {
    const value = v === undefined || v === 0 ? fallback : v;
    // Docker refuses health timings under 1 ms; they would spin.
    if (value !== 0 && value < 1) throw invalid(option, v, 'it must be at least 1ms');
    return nonNegative(option, value, fallback);
  };
  return {
    test,
    intervalMs: ms('--health-interval', input.intervalMs, d.intervalMs),
    timeoutMs: ms('--health-timeout', input.timeoutMs, d.timeoutMs),
    startPeriodMs: nonNegative('--health-start-period', input.startPeriodMs, d.startPeriodMs),
    retries: wholeNonNegative('--health-retries', input.retries === 0 ? undefined : input.retries, d.retries),
  };
}

function normalizePort(input: DeepPartial<PortConfig>): PortConfig {
  const port: PortConfig = {
    name: input.name ?? '',
    protocol: input.protocol ?? 'TCP',
    targetPort: input.targetPort ?? 0,
    publishedPort: input.publishedPort ?? 0,
    publishMode: input.publishMode ?? 'INGRESS',
  };
  if (!['TCP', 'UDP'].includes(port.protocol)) throw invalid('--publish', port.protocol.toLowerCase(), 'the protocol is tcp or udp');
  if (!['INGRESS', 'HOST'].includes(port.publishMode)) throw invalid('--publish', port.publishMode.toLowerCase(), 'the mode is ingress or host');
  if (!Number.isInteger(port.targetPort) || port.targetPort < 1 || port.targetPort > 65535) {
    throw invalid('--publish', `target=${port.targetPort}`, 'the target port is 1 to 65535');
  }
  if (!Number.isInteger(port.publishedPort) || port.publishedPort < 0 || port.publishedPort > 65535) {
    throw invalid('--publish', `published=${port.publishedPort}`, 'the published port is 1 to 65535 (or left out to have one picked)');
  }
  return port;
}

function normalizeEndpoint(input: DeepPartial<EndpointSpec> | undefined): EndpointSpec {
  const mode = input?.mode ?? 'VIP';
  if (!['VIP', 'DNSRR'].includes(mode)) throw invalid('--endpoint-mode', mode.toLowerCase(), 'it is vip or dnsrr');
  const ports = (input?.ports ?? []).map(normalizePort);
  const seen = new Map<string, PortConfig>();
  for (const p of ports) {
    if (p.publishedPort === 0) continue;
    const key = `${p.publishedPort}/${p.protocol}`;
    if (seen.has(key)) throw invalid('--publish', key.toLowerCase(), 'the same published port and protocol appear twice');
    seen.set(key, p);
  }
  // Docker: a DNS round-robin service has no VIP for the routing mesh to balance to.
  if (mode === 'DNSRR' && ports.some((p) => p.publishMode === 'INGRESS')) {
    throw invalid('--endpoint-mode', 'dnsrr', 'ports published through the routing mesh need a VIP; publish them with mode=host or use --endpoint-mode vip');
  }
  return { mode, ports };
}

function normalizeTask(input: DeepPartial<TaskSpec> | undefined): TaskSpec {
  const image = input?.image ?? '';
  if (image.trim() === '') throw invalid('IMAGE', image, 'a service needs an image (docker runtime) or a program (process runtime) to run');
  const runtime = input?.runtime ?? 'PROCESS';
  if (!['PROCESS', 'DOCKER'].includes(runtime)) throw invalid('--runtime', runtime.toLowerCase(), 'it is process or docker');
  const env = [...(input?.env ?? [])];
  for (const e of env) if (!ENV_KEY.test(e.split('=')[0] ?? '')) throw invalid('--env', e, 'each variable is KEY=VALUE with a non-empty KEY');
  const placement = input?.placement;
  const task: TaskSpec = {
    runtime,
    image,
    command: [...(input?.command ?? [])],
    args: [...(input?.args ?? [])],
    env,
    hostname: input?.hostname ?? '',
    dir: input?.dir ?? '',
    user: input?.user ?? '',
    restart: normalizeRestart(input?.restart),
    placement: {
      constraints: [...(placement?.constraints ?? [])],
      preferences: (placement?.preferences ?? []).map((p) => ({ spreadDescriptor: p.spreadDescriptor ?? '' })),
      maxReplicas: wholeNonNegative('--replicas-max-per-node', placement?.maxReplicas, 0),
      platforms: (placement?.platforms ?? []).map((p) => ({ architecture: p.architecture ?? '', os: p.os ?? '' })),
    },
    stopGracePeriodMs: nonNegative('--stop-grace-period', input?.stopGracePeriodMs === 0 ? undefined : input?.stopGracePeriodMs, SERVICE_DEFAULTS.stopGracePeriodMs),
    networks: (input?.networks ?? []).map((n) => ({ target: n.target ?? '', aliases: [...(n.aliases ?? [])] })),
    forceUpdate: wholeNonNegative('--force', input?.forceUpdate, 0),
  };
  const health = normalizeHealth(input?.healthcheck);
  if (health !== undefined) task.healthcheck = health;
  for (const n of task.networks) if (n.target === '') throw invalid('--network', n.target, 'a network attachment names a network');
  return task;
}

/**
 * Checks a service spec as a caller wrote it and returns it complete, with Docker's defaults
 * filled in. Throws SERVICE_INVALID_OPTION naming the CLI flag at fault; never partially
 * applies anything (it is pure). `placementCheck` validates constraints and preferences
 * (the scheduler owns their grammar).
 */
export function normalizeServiceSpec(
  input: DeepPartial<ServiceSpec>,
  placementCheck: (constraints: readonly string[], preferences: readonly string[]) => void = () => {},
): ServiceSpec {
  const name = input.annotations?.name ?? '';
  checkServiceName(name);
  if (input.replicated !== undefined && input.global !== undefined) {
    throw invalid('--replicas', input.replicated.replicas, 'replicas can only be used with replicated mode, and this service is global');
  }
  const task = normalizeTask(input.task);
  placementCheck(task.placement!.constraints, task.placement!.preferences.map((p) => p.spreadDescriptor));
  const spec: ServiceSpec = {
    annotations: { name, labels: Object.fromEntries(Object.entries(input.annotations?.labels ?? {}).map(([k, v]) => [k, v ?? ''])) },
    task,
    update: normalizeUpdateConfig('update', input.update),
    rollback: normalizeUpdateConfig('rollback', input.rollback),
    endpoint: normalizeEndpoint(input.endpoint),
  };
  if (input.global !== undefined) spec.global = {};
  else spec.replicated = { replicas: wholeNonNegative('--replicas', input.replicated?.replicas, SERVICE_DEFAULTS.replicas) };
  return spec;
}
