import type { LogSubscription, PublishedLogLine } from '../../manager/dispatcher/messages.js';
import type { LogLine } from '../runtime/runtime.js';

/**
 * Lines waiting to go out in one PublishLogs message. Pure. A batch is full at `maxLines`
 * lines or `maxBytes` bytes of line data, whichever comes first (a single longer line still
 * goes, alone).
 */
export class LineBatch {
  private lines: PublishedLogLine[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  /** Adds a line; true when the batch is now full and should be sent. */
  add(taskId: string, line: LogLine): boolean {
    const data = Buffer.from(line.line, 'utf8');
    this.lines.push({ taskId, stream: line.stream === 'stderr' ? 'LOG_STREAM_STDERR' : 'LOG_STREAM_STDOUT', timestampMs: line.timestampMs, data });
    this.bytes += data.length;
    return this.lines.length >= this.maxLines || this.bytes >= this.maxBytes;
  }

  get size(): number {
    return this.lines.length;
  }

  /** The lines so far; the batch starts empty again. */
  take(): PublishedLogLine[] {
    const lines = this.lines;
    this.lines = [];
    this.bytes = 0;
    return lines;
  }
}

/** Which subscriptions to start and stop, given the running ones and the session message's list. */
export function diffSubscriptions(
  running: Iterable<string>, wanted: readonly LogSubscription[],
): { readonly start: LogSubscription[]; readonly stop: string[] } {
  const runningIds = new Set(running);
  const wantedIds = new Set(wanted.map((s) => s.id));
  return {
    start: wanted.filter((s) => !runningIds.has(s.id)),
    stop: [...runningIds].filter((id) => !wantedIds.has(id)),
  };
}

/** The last `tail` lines kept while reading (0 = all). Pure. */
export class TailBuffer {
  private readonly lines: LogLine[] = [];

  constructor(private readonly tail: number) {}

  add(line: LogLine): void {
    this.lines.push(line);
    if (this.tail > 0 && this.lines.length > this.tail) this.lines.shift();
  }

  take(): LogLine[] {
    return this.lines.splice(0);
  }
}
