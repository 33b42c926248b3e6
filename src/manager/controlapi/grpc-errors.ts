import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { TsswarmError, errorCatalog, errorMessage, isTsswarmError, type ErrorCode, type ErrorDetails } from '../../errors/index.js';

/** Trailer carrying the TsswarmError code (the same name the CA's interceptor uses). */
export const ERROR_CODE_TRAILER = 'tsswarm-error-code';
/** Trailer carrying the error's details as JSON, so the far side rebuilds the same message. */
export const ERROR_DETAILS_TRAILER = 'tsswarm-error-details';

/**
 * The gRPC edge, server side: any throw becomes a status. A TsswarmError keeps its code and
 * details in trailers; anything else is an INTERNAL error (a broken invariant).
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> {
  const e = isTsswarmError(err) ? err : new TsswarmError('INTERNAL', { detail: errorMessage(err) }, { cause: err });
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, e.code);
  metadata.set(ERROR_DETAILS_TRAILER, JSON.stringify(e.details));
  return { code: status[e.grpcStatusName as keyof typeof status], details: e.message, metadata };
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalog, code);
}

/**
 * The gRPC edge, client side: the TsswarmError the server sent, or undefined when the error
 * did not come from a tsswarm handler (the connection failed, a deadline passed).
 */
export function fromServiceError(err: ServiceError): TsswarmError | undefined {
  const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof code !== 'string' || !isErrorCode(code)) return undefined;
  let details: ErrorDetails = {};
  const raw = err.metadata.get(ERROR_DETAILS_TRAILER)[0];
  if (typeof raw === 'string') {
    try {
      details = JSON.parse(raw) as ErrorDetails;
    } catch {
      // A peer of another version: the code alone still says what happened.
    }
  }
  return new TsswarmError(code, details);
}
