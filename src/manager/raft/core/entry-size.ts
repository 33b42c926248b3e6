import type { Entry } from '../types.js';

/** What an entry counts against the byte limits: its data. Raft's own fields are ignored. */
export function entrySize(entry: Entry): number {
  return entry.data.byteLength;
}

/**
 * Entries `source[from..to)`, cut after the first one that reaches `maxBytes` of data; at least
 * one entry when the range is not empty, so an oversized entry still makes progress.
 */
export function entriesWithinBytes(source: readonly Entry[], from: number, to: number, maxBytes: number): Entry[] {
  let end = from;
  let bytes = 0;
  while (end < to) {
    bytes += entrySize(source[end]!);
    if (bytes > maxBytes && end > from) break;
    end++;
  }
  return source.slice(from, end);
}
