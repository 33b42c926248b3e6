import tls from 'node:tls';
import type { SecureServerOptions } from 'node:http2';
import { ChannelCredentials, ServerCredentials, experimental, type ServerInterceptor } from '@grpc/grpc-js';
import { TsswarmError } from '../../errors/index.js';
import { CA_COMMON_NAME, type NodeRole } from './node-identity.js';
import type { TrustBundle } from './trust-bundle.js';
import { verifyPeer, type PeerCertificateLike } from './verify-peer.js';

/** Oldest TLS version spoken on 2377 (Docker: TLS 1.2 minimum). */
export const MIN_TLS_VERSION: tls.SecureVersion = 'TLSv1.2';

/**
 * ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only, as Docker's 2377; the TLS 1.3
 * suites are all AEAD. RSA and ECDSA variants are listed so a later move to ECDSA keys needs
 * no change here.
 */
export const CIPHER_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
].join(':');

/**
 * Channel option for every client of 2377: the TLS server name (SNI) and the name handed to
 * checkServerIdentity become swarm-ca instead of the dialled IP address (RFC 6066 forbids
 * IP addresses in SNI, and Node warns about them). Identity is checked by role, not by name.
 */
export const NODE_CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': CA_COMMON_NAME } as const;

type ContextWatcher = (context: tls.SecureContextOptions | null) => void;

/**
 * Adds the TLS floor and cipher list to grpc-js's certificate-provider credentials. grpc-js
 * builds each new TLS context from {ca, cert, key} alone, so the floor must be added both
 * to the server options and to every context update, or a certificate rotation would
 * silently drop it.
 */
class HardenedServerCredentials extends ServerCredentials {
  private readonly wrappers = new Map<ContextWatcher, ContextWatcher>();

  constructor(private readonly inner: ServerCredentials) {
    super(null);
  }

  private static harden<T extends tls.SecureContextOptions>(options: T): T {
    return { ...options, minVersion: MIN_TLS_VERSION, ciphers: CIPHER_SUITES };
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ServerCredentials): boolean {
    return other instanceof HardenedServerCredentials && this.inner._equals(other.inner);
  }

  override _getConstructorOptions(): SecureServerOptions | null {
    return HardenedServerCredentials.harden(this.inner._getConstructorOptions() ?? {});
  }

  override _getSecureContextOptions(): tls.SecureContextOptions | null {
    const options = this.inner._getSecureContextOptions();
    return options === null ? null : HardenedServerCredentials.harden(options);
  }

  override _addWatcher(watcher: ContextWatcher): void {
    const wrapped: ContextWatcher = (context) => watcher(context === null ? null : HardenedServerCredentials.harden(context));
    this.wrappers.set(watcher, wrapped);
    this.inner._addWatcher(wrapped);
    // grpc-js 1.14 subscribes to the providers before it registers the watcher, so a provider
    // that answers synchronously (as MemoryCertificateProvider does) would go unheard and the
    // server would drop every connection until the next update. Replay the current state.
    const current = this.inner._getSecureContextOptions();
    if (current !== null) wrapped(current);
  }

  override _removeWatcher(watcher: ContextWatcher): void {
    const wrapped = this.wrappers.get(watcher);
    if (wrapped === undefined) return;
    this.wrappers.delete(watcher);
    this.inner._removeWatcher(wrapped);
  }
}

/**
 * Server credentials for 2377. A client certificate is REQUESTED but not required, so the two
 * open CA calls (root certificate, first node certificate) work on the same port; every other
 * handler checks the peer with verifyPeer / a CallAuthorizer. TLS verifies a presented
 * certificate against the provider's roots; grpc-js exposes it to handlers only if it passed.
 * The provider may update its material at any time (renewal, rotation): new connections use it.
 */
export function createNodeServerCredentials(
  provider: experimental.CertificateProvider,
  interceptors: ServerInterceptor[] = [],
): ServerCredentials {
  // grpc-js 1.14 declares the parameters as (caProvider, identityProvider) but passes them to
  // the constructor as (identity, ca); one provider serving both makes the order moot.
  const inner = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  const hardened = new HardenedServerCredentials(inner);
  return interceptors.length === 0 ? hardened : experimental.createServerCredentialsWithInterceptors(hardened, interceptors);
}

export interface ServerCheck {
  readonly clusterId: string;
  /** The current trust bundle (it changes during a CA rotation). */
  readonly trust: () => TrustBundle;
  /** Roles a server on 2377 may have; managers only, by default. */
  readonly allowedRoles?: readonly NodeRole[];
  readonly removedNodeIds?: { has(nodeId: string): boolean };
  /** Wall clock for the validity check; the edge's `() => new Date()` by default. */
  readonly now?: () => Date;
}

/**
 * Client credentials for 2377: present the node's certificate, trust only the cluster roots,
 * and, instead of matching the dialled host name against DNS names, require the server's
 * certificate to be a node certificate of this cluster with an allowed role (verifyPeer).
 * Node's TLS floor is TLS 1.2 (tls.DEFAULT_MIN_VERSION), and grpc-js offers no way to set
 * minVersion on a provider-based client, so this refuses to run if the floor was lowered.
 */
export function createNodeChannelCredentials(
  provider: experimental.CertificateProvider,
  check: ServerCheck,
  /** Who supplies the client certificate; null for a joining node, which has none yet. */
  identityProvider: experimental.CertificateProvider | null = provider,
): ChannelCredentials {
  if (tls.DEFAULT_MIN_VERSION !== 'TLSv1.2' && tls.DEFAULT_MIN_VERSION !== 'TLSv1.3') {
    throw new TsswarmError('INTERNAL', { detail: `tls.DEFAULT_MIN_VERSION is ${tls.DEFAULT_MIN_VERSION}; 2377 needs TLS 1.2 or later` });
  }
  const allowedRoles = check.allowedRoles ?? ['swarm-manager'];
  const removedNodeIds = check.removedNodeIds ?? new Set<string>();
  const now = check.now ?? (() => new Date());
  const checkServerIdentity = (_hostname: string, cert: tls.PeerCertificate): Error | undefined => {
    try {
      verifyPeer(cert as PeerCertificateLike, {
        trust: check.trust(), clusterId: check.clusterId, now: now(), allowedRoles, removedNodeIds,
        purpose: 'server', operation: 'serving 2377',
      });
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
  return experimental.createCertificateProviderChannelCredentials(provider, identityProvider, { checkServerIdentity });
}

/**
 * Credentials for the very first call of a joining node, which fetches the root CA before it
 * can trust anything: TLS that accepts any server certificate. Nothing received on it may be
 * trusted until verifyRootAgainstToken has checked the root against the join token; then the
 * node dials again with createNodeChannelCredentials (and no identity) to get its certificate.
 */
export function createBootstrapChannelCredentials(): ChannelCredentials {
  return ChannelCredentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}
