import { X509Certificate, createHash } from 'node:crypto';
import {
  rootCaFromStored, rootCaToStored, retargetJoinTokens, rotateJoinToken, splitPemCertificates, startRotation,
} from '../ca/index.js';
import type { Cluster, Node, RootCA } from '../store/index.js';

/**
 * `tsswarm ca --rotate` on the store (src/manager/ca/rotation.ts has the steps):
 *  1. startRootRotation: a new root cross-signed by the old one goes into the Cluster's
 *     RootCA (next_ca_*), and both join tokens get new secrets. From then on the CA signs
 *     with the new key (cluster-signer.ts).
 *  2. Every node sees the new trust (managers in their store, workers in their session),
 *     trusts old + new, and renews its certificate, now from the new root.
 *  3. finishRootRotation, once every node's certificate in the store chains to the new root:
 *     the new root alone, the tokens retargeted to its digest. Nodes renew once more to drop
 *     the cross-signed certificate from their chain, and trust only the new root.
 */

/** What every node must trust now, as one PEM bundle (the same set the dispatcher sends). */
export function trustedRootsBundle(rootCa: RootCA | undefined): string {
  if (rootCa === undefined) return '';
  return [rootCa.caCertPem, rootCa.nextCaCertPem, rootCa.crossSignedCaCertPem]
    .map((pem) => pem.trim())
    .filter((pem, i, all) => pem !== '' && all.indexOf(pem) === i)
    .map((pem) => `${pem}\n`)
    .join('');
}

/** Whether two PEM bundles hold the same certificates (order and whitespace aside). */
export function sameCertificates(a: string, b: string): boolean {
  const norm = (pem: string): string => splitPemCertificates(pem).map((c) => c.trim()).sort().join('\n');
  return norm(a) === norm(b);
}

export function rotationInProgress(cluster: Cluster): boolean {
  return (cluster.rootCa?.nextCaCertPem ?? '') !== '';
}

/** Step 1: the Cluster with a new root cross-signed by the current one, and new token secrets. */
export async function startRootRotation(cluster: Cluster, now: Date): Promise<Cluster> {
  const rootCa = cluster.rootCa!;
  const current = rootCaFromStored({ certPem: rootCa.caCertPem, keyPem: rootCa.caKeyPem });
  const next = await startRotation({ root: current }, now);
  const stored = rootCaToStored(next.rotation!.newRoot);
  const tokens = rotateJoinToken(rotateJoinToken(cluster.joinTokens!, 'swarm-worker'), 'swarm-manager');
  return {
    ...cluster,
    rootCa: { ...rootCa, nextCaCertPem: stored.certPem, nextCaKeyPem: stored.keyPem, crossSignedCaCertPem: next.rotation!.crossSignedPem },
    joinTokens: { ...tokens },
  };
}

/** Step 3's condition: every node's current certificate is signed by the new root's key. */
export function everyNodeOnNewRoot(cluster: Cluster, nodes: readonly Node[]): boolean {
  const next = cluster.rootCa?.nextCaCertPem ?? '';
  if (next === '') return false;
  const key = new X509Certificate(next).publicKey;
  return nodes.every((n) => {
    const pem = n.certificate?.certPem ?? '';
    if (pem === '') return false;
    try {
      return new X509Certificate(pem).verify(key);
    } catch {
      return false;
    }
  });
}

/** Step 3: the new root alone; the tokens keep their secrets and pin the new root's digest. */
export function finishRootRotation(cluster: Cluster): Cluster {
  const rootCa = cluster.rootCa!;
  return {
    ...cluster,
    rootCa: {
      caCertPem: rootCa.nextCaCertPem, caKeyPem: rootCa.nextCaKeyPem ?? '', caCertDigest: createHash('sha256').update(new X509Certificate(rootCa.nextCaCertPem).raw).digest('hex'),
      crossSignedCaCertPem: '', nextCaCertPem: '', nextCaKeyPem: '',
    },
    joinTokens: { ...retargetJoinTokens(cluster.joinTokens!, rootCa.nextCaCertPem) },
  };
}
