/** Shared helpers for the storage tests: temp dirs that always go away, entries, a log capture. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { onTestFinished } from 'vitest';
import { EntryType, type Entry } from '../../../../src/manager/raft/types.js';

/** A fresh directory for this test, removed when the test finishes, passed or failed. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tsswarm-storage-${prefix}-`));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Entry data derived from (index, term), so any entry's content can be checked on its own. */
export function entryData(index: number, term: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return data;
}

export function entry(index: number, term: number, size = 16): Entry {
  return { index, term, type: EntryType.Normal, data: entryData(index, term, size) };
}

export function entries(from: number, to: number, term: number, size = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** Index/term pairs, to compare recovered logs compactly. */
export function ids(list: readonly Entry[]): string[] {
  return list.map((e) => `${e.index}@${e.term}`);
}

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: Array<Record<string, unknown>>;
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogger(): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Runs fn and returns what it threw (failing the test if it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a throw');
}
