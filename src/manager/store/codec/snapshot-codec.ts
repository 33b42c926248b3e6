import type { ObjectKind, ObjectOfKind } from '../../../objects/index.js';
import { decodeMessage, encodeMessage } from './object-codec.js';
import { objectSchema } from './schema.js';

/** The StoreSnapshot message's version this code writes and reads. */
export const storeSnapshotVersion = 1;

export type SnapshotTables = { [K in ObjectKind]: Array<ObjectOfKind[K]> };

export interface StoreSnapshotContents {
  readonly appliedIndex: number;
  readonly tables: SnapshotTables;
}

export function encodeStoreSnapshot(s: StoreSnapshotContents): Uint8Array {
  return encodeMessage(objectSchema().snapshot, {
    version: storeSnapshotVersion,
    appliedIndex: s.appliedIndex,
    nodes: s.tables.node,
    clusters: s.tables.cluster,
    services: s.tables.service,
    tasks: s.tables.task,
    networks: s.tables.network,
  });
}

interface WireSnapshot {
  version: number;
  appliedIndex: number;
  nodes: SnapshotTables['node'];
  clusters: SnapshotTables['cluster'];
  services: SnapshotTables['service'];
  tasks: SnapshotTables['task'];
  networks: SnapshotTables['network'];
}

/** Throws on bytes that are not a store snapshot of a version this code reads. */
export function decodeStoreSnapshot(data: Uint8Array): StoreSnapshotContents {
  const w = decodeMessage<WireSnapshot>(objectSchema().snapshot, data);
  if (w.version !== storeSnapshotVersion) throw new Error(`store snapshot version ${w.version} is not ${storeSnapshotVersion}`);
  return {
    appliedIndex: w.appliedIndex,
    tables: { node: w.nodes, cluster: w.clusters, service: w.services, task: w.tasks, network: w.networks },
  };
}
