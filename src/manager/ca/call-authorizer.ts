import type { NodeRole } from './node-identity.js';
import type { TrustBundle } from './trust-bundle.js';
import { verifyPeer, type PeerCertificateLike, type VerifiedPeer } from './verify-peer.js';

/** The part of a grpc-js server call this reads (every server call type has it). */
export interface CallWithAuthContext {
  getAuthContext(): { sslPeerCertificate?: PeerCertificateLike | undefined } | null;
}

export interface CallAuthorizerOptions {
  readonly clusterId: string;
  /** The current trust bundle (it changes during a CA rotation). */
  readonly trust: () => TrustBundle;
  /** Node IDs removed from the cluster; consulted on every call, so removal takes effect at once. */
  readonly removedNodeIds: { has(nodeId: string): boolean };
  /** Wall clock; the daemon passes `() => new Date()`, tests a fixed time. */
  readonly now: () => Date;
}

export type CallAuthorizer = (call: CallWithAuthContext, allowedRoles: readonly NodeRole[], operation: string) => VerifiedPeer;

/**
 * What each handler on 2377 calls first: `authorize(call, ['swarm-manager'], 'Control.X')`
 * returns the caller's node ID and role, or throws a CA_* TsswarmError for the gRPC edge to
 * map (UNAUTHENTICATED or PERMISSION_DENIED).
 */
export function createCallAuthorizer(options: CallAuthorizerOptions): CallAuthorizer {
  return (call, allowedRoles, operation) =>
    verifyPeer(call.getAuthContext()?.sslPeerCertificate, {
      trust: options.trust(),
      clusterId: options.clusterId,
      now: options.now(),
      allowedRoles,
      removedNodeIds: options.removedNodeIds,
      purpose: 'client',
      operation,
    });
}
