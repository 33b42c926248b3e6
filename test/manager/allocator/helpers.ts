import { isTsswarmError, type TsswarmError } from '../../../src/errors/index.js';

/** Runs `fn` and returns the TsswarmError it throws; fails the test if it throws nothing else. */
export function thrown(fn: () => unknown): TsswarmError {
  try {
    fn();
  } catch (err) {
    if (isTsswarmError(err)) return err;
    throw new Error(`expected a TsswarmError, got ${String(err)}`);
  }
  throw new Error('expected a TsswarmError, but nothing was thrown');
}
