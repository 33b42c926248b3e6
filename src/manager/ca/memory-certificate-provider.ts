import { experimental } from '@grpc/grpc-js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * A node's TLS material: the roots it trusts and the certificate chain + key it presents.
 * A joining node has roots (checked against its token) but no certificate yet.
 */
export interface NodeTlsMaterial {
  /** PEM bundle of the cluster root(s). */
  readonly rootsPem: string;
  /** PEM: the node certificate, then any intermediates (the cross-signed root in a rotation). */
  readonly certChainPem?: string;
  readonly keyPem?: string;
}

/**
 * A grpc-js CertificateProvider fed from memory rather than files: the daemon holds the
 * certificates it got from the CA and calls `update` after a renewal or a root rotation.
 * Servers and channels built on it pick the new material up for new connections without a
 * restart. One provider serves as both the CA and the identity provider.
 */
export class MemoryCertificateProvider implements experimental.CertificateProvider {
  private material: NodeTlsMaterial | undefined;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(initial?: NodeTlsMaterial) {
    this.material = initial;
  }

  /** Replaces the material and tells every listener (servers reload their TLS context). */
  update(material: NodeTlsMaterial): void {
    this.material = material;
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const listener of this.identityListeners) listener(this.identityUpdate());
  }

  current(): NodeTlsMaterial | undefined {
    return this.material;
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // grpc-js waits for a first update before it can build a TLS context: give it at once.
    if (this.material !== undefined) listener(this.caUpdate());
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    if (this.material !== undefined) listener(this.identityUpdate());
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.material === undefined ? null : { caCertificate: Buffer.from(this.material.rootsPem) };
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const { certChainPem, keyPem } = this.material ?? {};
    if (certChainPem === undefined || keyPem === undefined) return null;
    return { certificate: Buffer.from(certChainPem), privateKey: Buffer.from(keyPem) };
  }
}
