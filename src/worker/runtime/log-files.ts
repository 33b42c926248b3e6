import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogLine, LogOptions } from './runtime.js';

export const STDOUT_LOG = 'stdout.log';
export const STDERR_LOG = 'stderr.log';

/**
 * Reads a task's stdout.log and stderr.log (the files its process writes directly, so they
 * survive the daemon). The files carry no per-line time: lines already there when reading
 * starts are stamped with their file's last modification time, lines that appear while
 * following with the time they were read. Without follow, stdout lines come before stderr
 * lines; while following, lines come in the order they are seen.
 */
export async function* readLogFiles(
  taskDir: string,
  opts: LogOptions & { readonly pollMs: number; readonly ended: () => Promise<boolean> },
): AsyncGenerator<LogLine> {
  const readers = [new LineReader(join(taskDir, STDOUT_LOG), 'stdout'), new LineReader(join(taskDir, STDERR_LOG), 'stderr')];
  try {
    for (const r of readers) {
      const mtime = await r.mtime();
      for (const line of await r.readNew()) yield { stream: r.stream, timestampMs: mtime, line };
    }
    if (!opts.follow) {
      for (const r of readers) for (const line of r.flush()) yield { stream: r.stream, timestampMs: await r.mtime(), line };
      return;
    }
    while (opts.signal?.aborted !== true) {
      // Read once more after the task ended: what it wrote last is in the files by then.
      const ended = await opts.ended();
      for (const r of readers) for (const line of await r.readNew()) yield { stream: r.stream, timestampMs: Date.now(), line };
      if (ended) {
        for (const r of readers) for (const line of r.flush()) yield { stream: r.stream, timestampMs: Date.now(), line };
        return;
      }
      await sleep(opts.pollMs, opts.signal);
    }
  } finally {
    for (const r of readers) await r.close();
  }
}

class LineReader {
  private fh: FileHandle | undefined;
  private offset = 0;
  private partial = '';

  constructor(
    private readonly path: string,
    readonly stream: 'stdout' | 'stderr',
  ) {}

  async mtime(): Promise<number> {
    try {
      return (await stat(this.path)).mtimeMs;
    } catch {
      return Date.now();
    }
  }

  /** The complete lines written since the last call; a trailing partial line waits. */
  async readNew(): Promise<string[]> {
    if (this.fh === undefined) {
      try {
        this.fh = await open(this.path, 'r');
      } catch {
        return [];
      }
    }
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    if (chunks.length === 0) return [];
    const text = this.partial + Buffer.concat(chunks).toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines;
  }

  /** A last line without a newline, once nothing more will come. */
  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? [] : [rest];
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
