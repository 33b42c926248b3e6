import { isTsswarmError } from '../errors/index.js';

/**
 * Prints a failed command's error as CLI.md says (`Error: <what>, <why>, <what to do>` on
 * stderr) and exits 1. With -D (debug) the stable error code follows on its own line, for
 * scripts and tests that branch on codes rather than text.
 */
export function fail(err: unknown, debug: boolean): never {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${msg}\n`);
  if (debug) {
    process.stderr.write(`Error code: ${isTsswarmError(err) ? err.code : 'UNKNOWN'}\n`);
    if (!isTsswarmError(err) && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  }
  process.exit(1);
}

/**
 * A table as Docker prints it: a header row, columns left-aligned and separated by at least
 * three spaces (the last column unpadded).
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

/** Docker's capitalization of an enum name: READY -> Ready. */
export function titleCase(name: string): string {
  return name.charAt(0) + name.slice(1).toLowerCase();
}

/** Parses --format: only "json" is supported (Go templates are not). */
export function isJsonFormat(format: string | undefined): boolean {
  return format === 'json';
}
