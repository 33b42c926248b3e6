/**
 * What the executor asks of a runtime (process or docker). A runtime runs one task's program
 * inside the network namespace the sandbox provider made for it; everything it keeps about a
 * started task is a `RuntimeRef`, plain JSON that the executor persists so that a restarted
 * daemon adopts the task instead of starting it again.
 */

/** Everything a runtime needs to run one task, already templated and resolved. */
export interface RunSpec {
  readonly taskId: string;
  /** Program (process) or image (docker). */
  readonly image: string;
  /** Overrides the image's entrypoint (docker); for process, prepended to args. */
  readonly command: readonly string[];
  readonly args: readonly string[];
  /** "K=V" strings, templates already expanded, TSSWARM_* included. */
  readonly env: readonly string[];
  readonly hostname: string;
  /** Working directory inside the task ("" = the runtime's default). */
  readonly dir: string;
  /** "" (root), "user", "uid", "user:group" or "uid:gid". */
  readonly user: string;
  /** The sandbox's network namespace (an nsfs file). */
  readonly netnsPath: string;
  /** The task's own directory on the node (logs, hosts, resolv.conf, work dir). */
  readonly taskDir: string;
}

/** A started task as a runtime finds it again; JSON-serializable. */
export type RuntimeRef =
  | {
      readonly kind: 'process';
      /** The host-side supervisor (a shell outside the namespaces that records the exit code). */
      readonly supervisorPid: number;
      readonly supervisorStart: number;
      /** The task's own process: PID 1 of its PID namespace, what a stop signal must reach. */
      readonly pid: number;
      /** Field 22 of /proc/PID/stat: tells a reused PID apart. */
      readonly pidStart: number;
      readonly startedAtMs: number;
      readonly taskDir: string;
    }
  | { readonly kind: 'docker'; readonly containerId: string; readonly startedAtMs: number };

export type Observed =
  | { readonly state: 'running'; readonly pid: number; readonly containerId: string; readonly startedAtMs: number }
  /** exitCode undefined: the task is gone and nobody recorded how it ended. */
  | { readonly state: 'exited'; readonly exitCode: number | undefined; readonly pid: number; readonly containerId: string; readonly startedAtMs: number };

export interface ExecResult {
  readonly exitCode: number;
  /** The first few KB of stdout+stderr, for the health log. */
  readonly output: string;
  readonly timedOut: boolean;
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  /** Unix ms; see the runtime's README for how precise it is. */
  readonly timestampMs: number;
  readonly line: string;
}

export interface LogOptions {
  /** Keep reading until the task ends or the signal aborts. */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
}

export interface Runtime {
  readonly name: 'process' | 'docker';
  /**
   * Checks that the task can start (program or image present, engine reachable). Throws a
   * TsswarmError (TASK_PROGRAM_NOT_FOUND, TASK_IMAGE_NOT_FOUND, TASK_RUNTIME_UNAVAILABLE):
   * the executor reports it as REJECTED. Changes nothing on failure.
   */
  prepare(spec: RunSpec): Promise<void>;
  /** Starts the task detached from the daemon; returns once its own process is known. */
  start(spec: RunSpec): Promise<RuntimeRef>;
  /** What the task is doing now; never confuses a reused PID with the task. */
  inspect(ref: RuntimeRef): Promise<Observed>;
  /** Resolves when the task has ended (also for an adopted task that is not our child). */
  wait(ref: RuntimeRef, signal?: AbortSignal): Promise<Observed>;
  /** Stop signal, then SIGKILL after `graceMs`; resolves once the task is gone. */
  stop(ref: RuntimeRef, graceMs: number): Promise<void>;
  /** Runs a command inside the task's namespaces (health checks). */
  exec(ref: RuntimeRef, spec: RunSpec, cmd: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** Removes what the runtime keeps besides the task directory (a container). Idempotent. */
  remove(ref: RuntimeRef): Promise<void>;
  /**
   * Ends and removes whatever a start of this task left without a recorded ref (the daemon
   * died between starting it and writing the ref down). Idempotent; nothing to do is fine.
   */
  removeUnrecorded(taskId: string, taskDir: string): Promise<void>;
  /** The task's stdout and stderr lines, oldest first. */
  logs(ref: RuntimeRef, opts: LogOptions): AsyncIterable<LogLine>;
}
