import { spawn } from 'node:child_process';

/** Which `tsswarm` to run: the node binary and the compiled CLI entry (dist/src/cli/main.js). */
export interface TsswarmBinary {
  readonly node: string;
  readonly mainJs: string;
}

export interface CliResult {
  /** The exit code; null when it was killed (by the deadline). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tsswarm -D -H unix://SOCKET ARGS...` once and collects its output; never rejects on a
 * non-zero exit. -D makes a failure print its stable error code too. SIGKILLed at the deadline.
 */
export function runTsswarm(bin: TsswarmBinary, socket: string, args: readonly string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin.node, [bin.mainJs, '-D', '-H', `unix://${socket}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line saying how a CLI call ended, for error reasons. */
export function describeFailure(args: readonly string[], r: CliResult): string {
  const how = r.code === null ? 'was killed at its deadline' : `exited with ${r.code}`;
  const out = r.stderr.trim() !== '' ? r.stderr.trim() : r.stdout.trim();
  return `\`tsswarm ${args.join(' ')}\` ${how}${out !== '' ? `: ${out}` : ''}`;
}
