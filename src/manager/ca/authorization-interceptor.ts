import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { TsswarmError, isTsswarmError } from '../../errors/index.js';
import type { CallAuthorizer } from './call-authorizer.js';
import type { NodeRole } from './node-identity.js';

/** Who may call a method: the roles allowed, or 'open' for the two calls a joining node makes. */
export type MethodAccess = readonly NodeRole[] | 'open';

/** Trailer that carries the TsswarmError code of a refusal, so clients branch on codes. */
export const ERROR_CODE_TRAILER = 'tsswarm-error-code';

/**
 * A server interceptor that checks every call on 2377 against `access` (method path → roles)
 * before the handler runs. Fail closed: a method missing from the table is refused, so a new
 * RPC cannot ship without a decision about who may call it. Refusals end the call with the
 * error's gRPC status, its message as details and its code in the ERROR_CODE_TRAILER trailer.
 * Handlers that need the caller's node ID call the same CallAuthorizer again (cheap: a parse
 * and a signature check).
 */
export function createAuthorizationInterceptor(
  authorize: CallAuthorizer,
  access: Readonly<Record<string, MethodAccess>>,
): ServerInterceptor {
  return (method, call) => {
    const rule = Object.hasOwn(access, method.path) ? access[method.path] : undefined;
    const refusal = (): TsswarmError | undefined => {
      if (rule === 'open') return undefined;
      if (rule === undefined) return new TsswarmError('CA_ROLE_DENIED', { nodeId: '(any)', role: '(any)', operation: method.path, allowed: 'nobody' });
      try {
        authorize(call, rule, method.path);
        return undefined;
      } catch (err) {
        if (isTsswarmError(err)) return err;
        return new TsswarmError('INTERNAL', { detail: `authorizing ${method.path}: ${String(err)}` }, { cause: err });
      }
    };
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            const err = refusal();
            if (err === undefined) {
              forward(metadata);
              return;
            }
            const trailer = new Metadata();
            trailer.set(ERROR_CODE_TRAILER, err.code);
            call.sendStatus({ code: status[err.grpcStatusName as keyof typeof status], details: err.message, metadata: trailer });
          },
        });
      },
    });
  };
}
