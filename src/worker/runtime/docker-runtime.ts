import { TsswarmError, errorMessage } from '../../errors/index.js';
import { DockerClient, type ContainerInspect } from './docker-client.js';
import { sleep } from './log-files.js';
import { parseDockerRuntimeConfig, type DockerRuntimeConfig } from './runtime-config.js';
import type { ExecResult, LogLine, LogOptions, Observed, Runtime, RunSpec, RuntimeRef } from './runtime.js';

type DockerRef = Extract<RuntimeRef, { kind: 'docker' }>;

/** Label on every container tsswarm makes, naming its task. */
export const TASK_LABEL = 'com.tsswarm.task.id';

/** The container of a task: one name per task, so a daemon that crashed mid-start never makes two. */
export function containerName(taskId: string): string {
  return `tsswarm-${taskId}`;
}

/**
 * IMAGE is an image in the host's Docker Engine. The container is made with NetworkMode
 * "none": Docker does no networking, and its network namespace (/proc/PID/ns/net) is left for
 * tsswarm's dataplane to plumb (see README: not done yet). Logs are the engine's (json-file).
 */
export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  private readonly cfg: DockerRuntimeConfig;
  private readonly client: DockerClient;

  constructor(config: unknown = {}) {
    this.cfg = parseDockerRuntimeConfig(config);
    this.client = new DockerClient(this.cfg.socketPath, this.cfg.callTimeoutMs);
  }

  async prepare(spec: RunSpec): Promise<void> {
    await this.client.ping();
    if (!(await this.client.imageExists(spec.image))) throw new TsswarmError('TASK_IMAGE_NOT_FOUND', { image: spec.image });
  }

  async start(spec: RunSpec): Promise<RuntimeRef> {
    const name = containerName(spec.taskId);
    // A container under this name is a leftover of a start that never got recorded.
    const stale = await this.client.inspectContainer(name);
    if (stale !== undefined) await this.client.removeContainer(stale.Id);
    const id = await this.client.createContainer(name, {
      Image: spec.image,
      ...(spec.command.length > 0 ? { Entrypoint: [...spec.command] } : {}),
      ...(spec.args.length > 0 ? { Cmd: [...spec.args] } : {}),
      Env: [...spec.env],
      Hostname: spec.hostname,
      ...(spec.dir !== '' ? { WorkingDir: spec.dir } : {}),
      ...(spec.user !== '' ? { User: spec.user } : {}),
      Labels: { [TASK_LABEL]: spec.taskId },
      HostConfig: { NetworkMode: 'none', Init: false },
    });
    try {
      await this.client.startContainer(id);
    } catch (e) {
      // e.g. the entrypoint is not in the image: the container exists but never ran.
      await this.client.removeContainer(id).catch(() => undefined);
      throw new TsswarmError('TASK_START_FAILED', { taskId: spec.taskId, reason: errorMessage(e) }, { cause: e });
    }
    const info = await this.client.inspectContainer(id);
    return { kind: 'docker', containerId: id, startedAtMs: startedAt(info) ?? Date.now() };
  }

  async inspect(ref: RuntimeRef): Promise<Observed> {
    const r = asDocker(ref);
    const info = await this.client.inspectContainer(r.containerId);
    const base = { containerId: r.containerId, startedAtMs: startedAt(info) ?? r.startedAtMs };
    if (info === undefined) return { state: 'exited', exitCode: undefined, pid: 0, ...base };
    if (info.State.Running) return { state: 'running', pid: info.State.Pid, ...base };
    return { state: 'exited', exitCode: info.State.ExitCode, pid: 0, ...base };
  }

  async wait(ref: RuntimeRef, signal?: AbortSignal): Promise<Observed> {
    const r = asDocker(ref);
    try {
      await this.client.waitContainer(r.containerId, signal);
    } catch (e) {
      if (signal?.aborted !== true) throw e;
    }
    return this.inspect(ref);
  }

  async stop(ref: RuntimeRef, graceMs: number): Promise<void> {
    const r = asDocker(ref);
    if (!(await this.running(r))) return;
    await this.client.killContainer(r.containerId, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (await this.running(r))) await sleep(Math.min(this.cfg.pollIntervalMs, Math.max(1, deadline - Date.now())));
    while (await this.running(r)) {
      await this.client.killContainer(r.containerId, 'SIGKILL');
      await sleep(this.cfg.pollIntervalMs);
    }
  }

  private async running(r: DockerRef): Promise<boolean> {
    return (await this.client.inspectContainer(r.containerId))?.State.Running === true;
  }

  async exec(ref: RuntimeRef, spec: RunSpec, cmd: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const r = asDocker(ref);
    if (!(await this.running(r))) throw new TsswarmError('TASK_EXEC_FAILED', { taskId: spec.taskId, reason: 'the container is not running' });
    const execId = await this.client.createExec(r.containerId, cmd, spec.env);
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    let output = '';
    try {
      const frames = await this.client.startExec(execId, abort.signal);
      output = Buffer.concat(frames.map((f) => f.data)).toString('utf8').slice(0, 4096);
    } finally {
      clearTimeout(timer);
    }
    const info = await this.client.inspectExec(execId);
    if (timedOut && info.Running && info.Pid > 0) {
      // The engine does not end an exec whose caller went away: end its process.
      try {
        process.kill(info.Pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return { exitCode: info.ExitCode ?? -1, output, timedOut };
  }

  async remove(ref: RuntimeRef): Promise<void> {
    await this.client.removeContainer(asDocker(ref).containerId);
  }

  async removeUnrecorded(taskId: string, _taskDir: string): Promise<void> {
    const leftover = await this.client.inspectContainer(containerName(taskId));
    if (leftover !== undefined) await this.client.removeContainer(leftover.Id);
  }

  async *logs(ref: RuntimeRef, opts: LogOptions): AsyncIterable<LogLine> {
    const r = asDocker(ref);
    const partial = { stdout: '', stderr: '' };
    for await (const frame of this.client.logs(r.containerId, opts.follow, opts.signal)) {
      const text = partial[frame.stream] + frame.data.toString('utf8');
      const lines = text.split('\n');
      partial[frame.stream] = lines.pop() ?? '';
      for (const l of lines) yield parseTimestamped(frame.stream, l);
    }
    for (const stream of ['stdout', 'stderr'] as const) if (partial[stream] !== '') yield parseTimestamped(stream, partial[stream]);
  }
}

/** "2026-11-23T12:00:00.123456789Z text" as the engine sends with timestamps=1. */
function parseTimestamped(stream: 'stdout' | 'stderr', raw: string): LogLine {
  const sp = raw.indexOf(' ');
  const ts = sp > 0 ? Date.parse(raw.slice(0, sp)) : NaN;
  return Number.isNaN(ts) ? { stream, timestampMs: Date.now(), line: raw } : { stream, timestampMs: ts, line: raw.slice(sp + 1) };
}

function startedAt(info: ContainerInspect | undefined): number | undefined {
  const t = info === undefined ? NaN : Date.parse(info.State.StartedAt);
  return Number.isNaN(t) || t <= 0 ? undefined : t;
}

function asDocker(ref: RuntimeRef): DockerRef {
  if (ref.kind !== 'docker') throw new TsswarmError('INTERNAL', { detail: `docker runtime handed a ${ref.kind} reference` });
  return ref;
}
