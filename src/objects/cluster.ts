import type { Annotations, StoredObject } from './common.js';

export interface ClusterSpec {
  annotations: Annotations;
  dispatcherHeartbeatPeriodMs: number;
  nodeCertExpiryMs: number;
  taskHistoryRetentionLimit: number;
  snapshotInterval: number;
  logEntriesForSlowFollowers: number;
  autolockManagers: boolean;
}

export interface RootCA {
  caCertPem: string;
  /** Managers only. */
  caKeyPem: string;
  caCertDigest: string;
  crossSignedCaCertPem: string;
  nextCaCertPem: string;
  /** During a rotation: the next root's key. Managers only. */
  nextCaKeyPem?: string;
}

export interface JoinTokens {
  worker: string;
  manager: string;
}

export interface EncryptionKey {
  subsystem: string;
  algorithm: 'AES_256_GCM';
  key: Uint8Array;
  lamportTime: number;
}

export interface Cluster extends StoredObject {
  spec: ClusterSpec;
  rootCa?: RootCA;
  joinTokens?: JoinTokens;
  networkBootstrapKeys: EncryptionKey[];
  encryptionKeyLamportClock: number;
  defaultAddressPools: string[];
  subnetSize: number;
  dataPathPort: number;
  unlockKey: string;
  /** IDs of nodes removed with `node rm`; their certificates are refused from then on. */
  removedNodeIds?: string[];
  /** IDs of nodes demoted from manager (they cannot be promoted again under the same ID). */
  demotedNodeIds?: string[];
}
