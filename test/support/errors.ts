import { isTsswarmError } from '../../src/errors/index.js';

/** The TsswarmError code `fn` throws, so tests assert codes and never message text. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isTsswarmError(err) ? err.code : `not a TsswarmError: ${String(err)}`;
  }
  return 'nothing thrown';
}
