import type { Cluster, Node } from '../../objects/index.js';
import type { LogSubscription, SessionMessage, WeightedPeer } from './messages.js';

/** The heartbeat period the cluster asks for, or `fallbackMs` when it names none. */
export function clusterHeartbeatPeriodMs(cluster: Cluster | undefined, fallbackMs: number): number {
  const period = cluster?.spec.dispatcherHeartbeatPeriodMs ?? 0;
  return period > 0 ? period : fallbackMs;
}

/**
 * The roots a node must trust, PEM: the root CA, plus during a rotation the next root and
 * the certificate cross-signing it. Never the CA key.
 */
export function trustedRootsPem(cluster: Cluster | undefined): string {
  const ca = cluster?.rootCa;
  if (ca === undefined) return '';
  return [ca.caCertPem, ca.nextCaCertPem, ca.crossSignedCaCertPem]
    .map((pem) => pem.trim())
    .filter((pem, i, all) => pem !== '' && all.indexOf(pem) === i)
    .map((pem) => `${pem}\n`)
    .join('');
}

/** What a session message says; pure, so "did it change" is a string comparison. */
export function sessionMessage(
  sessionId: string,
  node: Node | undefined,
  cluster: Cluster | undefined,
  managers: readonly WeightedPeer[],
  fallbackPeriodMs: number,
  logSubscriptions: readonly LogSubscription[] = [],
): SessionMessage {
  return {
    sessionId,
    node,
    managers: [...managers].sort((a, b) => b.weight - a.weight || a.addr.localeCompare(b.addr)),
    networkBootstrapKeys: [...(cluster?.networkBootstrapKeys ?? [])].sort((a, b) => a.lamportTime - b.lamportTime),
    rootCaPem: trustedRootsPem(cluster),
    heartbeatPeriodMs: clusterHeartbeatPeriodMs(cluster, fallbackPeriodMs),
    logSubscriptions: [...logSubscriptions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    nodeAttachments: [...(node?.attachments ?? [])],
  };
}
