import { errorCatalog, type ErrorCode } from './catalog.js';

export type ErrorDetails = Record<string, string | number | boolean | undefined>;

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = details[key];
    return value === undefined ? `{${key}}` : String(value);
  });
}

/**
 * The one error type that crosses component boundaries. `code` is stable and is what callers
 * and tests branch on; the text is for people.
 */
export class TsswarmError extends Error {
  readonly code: ErrorCode;
  readonly what: string;
  readonly why: string;
  readonly fix: string;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    const spec = errorCatalog[code];
    const what = fill(spec.what, details);
    const why = fill(spec.why, details);
    const fix = fill(spec.fix, details);
    super(`${what}, ${why}, ${fix}`, options);
    this.name = 'TsswarmError';
    this.code = code;
    this.what = what;
    this.why = why;
    this.fix = fix;
    this.retryable = spec.retryable;
    this.details = details;
  }

  /** The gRPC status name for this error; used only by gRPC adapters. */
  get grpcStatusName(): string {
    return errorCatalog[this.code].grpc;
  }
}

export function isTsswarmError(err: unknown, code?: ErrorCode): err is TsswarmError {
  return err instanceof TsswarmError && (code === undefined || err.code === code);
}

/** Narrows anything thrown into a message, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
