import { request, type IncomingMessage } from 'node:http';
import { TsswarmError, errorMessage } from '../../errors/index.js';

/**
 * A thin typed client for the few Docker Engine API calls the docker runtime needs, over the
 * engine's unix socket with node:http. API version 1.41 (Docker 20.10, Debian 12's docker.io)
 * is pinned in the paths, so a newer engine answers in the shape written here.
 */
const API = '/v1.41';

export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env: string[];
  Hostname: string;
  WorkingDir?: string;
  User?: string;
  Labels: Record<string, string>;
  HostConfig: { NetworkMode: 'none'; Init: boolean };
}

export interface ContainerState {
  Running: boolean;
  Pid: number;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
  Status: string;
}

export interface ContainerInspect {
  Id: string;
  State: ContainerState;
}

export interface DockerFrame {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

export class DockerClient {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  async ping(): Promise<void> {
    await this.call('GET', '/_ping', undefined, [200]);
  }

  /** Whether the engine has the image (by name, name:tag or ID). */
  async imageExists(name: string): Promise<boolean> {
    const res = await this.call('GET', `/images/${encodeURIComponent(name)}/json`, undefined, [200, 404]);
    return res.status === 200;
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const res = await this.call('POST', `/containers/create?name=${encodeURIComponent(name)}`, body, [201]);
    return (JSON.parse(res.body) as { Id: string }).Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/start`, undefined, [204, 304]);
  }

  /** undefined when no such container exists. */
  async inspectContainer(idOrName: string): Promise<ContainerInspect | undefined> {
    const res = await this.call('GET', `/containers/${encodeURIComponent(idOrName)}/json`, undefined, [200, 404]);
    return res.status === 404 ? undefined : (JSON.parse(res.body) as ContainerInspect);
  }

  /** Sends a signal; a container that is not running (409) or gone (404) is fine. */
  async killContainer(id: string, signal: string): Promise<void> {
    await this.call('POST', `/containers/${id}/kill?signal=${signal}`, undefined, [204, 404, 409]);
  }

  /** Blocks until the container is not running; no deadline (it may run for days). */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.call('POST', `/containers/${id}/wait?condition=not-running`, undefined, [200, 404], { noTimeout: true, signal });
    return res.status === 404 ? undefined : (JSON.parse(res.body) as { StatusCode: number }).StatusCode;
  }

  async removeContainer(id: string): Promise<void> {
    await this.call('DELETE', `/containers/${id}?force=1&v=1`, undefined, [204, 404]);
  }

  async createExec(id: string, cmd: readonly string[], env: readonly string[]): Promise<string> {
    const res = await this.call('POST', `/containers/${id}/exec`, { Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true, Tty: false }, [201]);
    return (JSON.parse(res.body) as { Id: string }).Id;
  }

  /** Starts an exec attached and returns its multiplexed output once it ends. */
  async startExec(execId: string, signal?: AbortSignal): Promise<DockerFrame[]> {
    const frames: DockerFrame[] = [];
    for await (const f of this.stream('POST', `/exec/${execId}/start`, { Detach: false, Tty: false }, signal)) frames.push(f);
    return frames;
  }

  async inspectExec(execId: string): Promise<{ Running: boolean; ExitCode: number | null; Pid: number }> {
    const res = await this.call('GET', `/exec/${execId}/json`, undefined, [200]);
    return JSON.parse(res.body) as { Running: boolean; ExitCode: number | null; Pid: number };
  }

  /** The container's output, demultiplexed, with the engine's RFC 3339 timestamp on each line. */
  logs(id: string, follow: boolean, signal?: AbortSignal): AsyncIterable<DockerFrame> {
    return this.stream('GET', `/containers/${id}/logs?stdout=1&stderr=1&timestamps=1&follow=${follow ? 1 : 0}`, undefined, signal);
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    okStatuses: readonly number[],
    opts: { noTimeout?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: string }> {
    const res = await this.open(method, path, body, opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (!okStatuses.includes(status)) throw apiError(method, path, status, text);
    return { status, body: text };
  }

  /** A multiplexed (8-byte header per frame) stdout/stderr stream, as the engine sends with Tty off. */
  private async *stream(method: string, path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<DockerFrame> {
    const res = await this.open(method, path, body, { noTimeout: true, signal });
    const status = res.statusCode ?? 0;
    if (status !== 200 && status !== 101) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw apiError(method, path, status, Buffer.concat(chunks).toString('utf8'));
    }
    let pending = Buffer.alloc(0);
    try {
      for await (const c of res) {
        pending = Buffer.concat([pending, c as Buffer]);
        for (;;) {
          if (pending.length < 8) break;
          const size = pending.readUInt32BE(4);
          if (pending.length < 8 + size) break;
          const kind = pending[0];
          const data = pending.subarray(8, 8 + size);
          pending = pending.subarray(8 + size);
          if (kind === 1 || kind === 2) yield { stream: kind === 1 ? 'stdout' : 'stderr', data };
        }
      }
    } catch (e) {
      if (signal?.aborted !== true) throw e;
    } finally {
      res.destroy();
    }
  }

  private open(method: string, path: string, body: unknown, opts: { noTimeout?: boolean; signal?: AbortSignal }): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: API + path,
          headers: { Host: 'docker', ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}) },
          ...(opts.noTimeout === true ? {} : { timeout: this.timeoutMs }),
          ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(
          opts.signal?.aborted === true
            ? e
            : new TsswarmError('TASK_RUNTIME_UNAVAILABLE', { runtime: 'docker', reason: errorMessage(e), socket: this.socketPath }, { cause: e }),
        ),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function apiError(method: string, path: string, status: number, text: string): TsswarmError {
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not JSON
  }
  return new TsswarmError('DOCKER_API_ERROR', { method, path, status, message });
}
