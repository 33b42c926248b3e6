import { rootCaFromStored, type NodeCertSigner } from '../ca/index.js';
import type { Cluster } from '../store/index.js';

/**
 * Who signs node certificates for this cluster now: its root, or during a CA rotation the new
 * root, whose certificates travel with the cross-signed certificate so that nodes still
 * trusting only the old root verify them (src/manager/ca/rotation.ts).
 */
export function clusterSigner(cluster: Cluster): NodeCertSigner {
  const root = cluster.rootCa!;
  if (root.nextCaCertPem !== '' && (root.nextCaKeyPem ?? '') !== '') {
    return { ca: rootCaFromStored({ certPem: root.nextCaCertPem, keyPem: root.nextCaKeyPem! }), intermediatesPem: [root.crossSignedCaCertPem] };
  }
  return { ca: rootCaFromStored({ certPem: root.caCertPem, keyPem: root.caKeyPem }), intermediatesPem: [] };
}
