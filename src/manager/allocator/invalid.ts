import { TsswarmError } from '../../errors/index.js';

/**
 * IPAM_INVALID with its three parts: `detail` names the input as the user typed it (with its
 * flag), `reason` says what is wrong with it, `hint` how to write it instead.
 */
export function invalid(detail: string, reason: string, hint: string): TsswarmError {
  return new TsswarmError('IPAM_INVALID', { detail, reason, hint });
}

/** Quotes user input for a message, so that empty strings and spaces stay visible. */
export function quote(text: string): string {
  return JSON.stringify(text);
}
