import type { Cluster } from './cluster.js';
import type { Network } from './network.js';
import type { Node } from './node.js';
import type { Service } from './service.js';
import type { Task } from './task.js';

/** The store's tables, in the order snapshots list them. */
export const objectKinds = ['node', 'cluster', 'service', 'task', 'network'] as const;
export type ObjectKind = (typeof objectKinds)[number];

export interface ObjectOfKind {
  node: Node;
  cluster: Cluster;
  service: Service;
  task: Task;
  network: Network;
}
