import { defaultRaftCoreTunables } from '../../../../src/manager/raft/core/index.js';
import type { NodeId } from '../../../../src/manager/raft/types.js';
import { SimCluster } from './sim-cluster.js';
import type { CoreTunables, SnapshotPolicy } from './sim-node.js';

export const NO_SNAPSHOTS: SnapshotPolicy = { chance: 0, minGap: 0, keep: 0 };

/** Scenarios run with the production defaults of the core. */
const { applied: _applied, ...productionTunables } = defaultRaftCoreTunables;
export const SCENARIO_TUNABLES: CoreTunables = productionTunables;

export interface ScenarioOptions {
  readonly voters?: readonly NodeId[];
  readonly tunables?: Partial<CoreTunables>;
  readonly snapshotPolicy?: SnapshotPolicy;
  readonly seed?: number;
}

export function newCluster(options: ScenarioOptions = {}): SimCluster {
  return new SimCluster({
    seed: options.seed ?? 1,
    voters: options.voters ?? ['n1', 'n2', 'n3'],
    tunables: { ...SCENARIO_TUNABLES, ...options.tunables },
    snapshotPolicy: options.snapshotPolicy ?? NO_SNAPSHOTS,
  });
}

/** Runs a scenario body; a violation is rethrown with the cluster's recent events attached. */
export function withTrace(cluster: SimCluster, body: () => void): void {
  try {
    body();
  } catch (err) {
    const lines = cluster.trace.lines(50).map((l) => `  ${l}`).join('\n');
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\nlast events:\n${lines}`, { cause: err });
  }
}

export function roleOf(cluster: SimCluster, id: NodeId): string {
  const node = cluster.node(id);
  return node.up ? node.core.status().role : 'down';
}

/** Make `id` campaign (again, up to a few terms, if it loses) until it leads. */
export function elect(cluster: SimCluster, id: NodeId, attempts = 4): void {
  for (let i = 0; i < attempts; i++) {
    cluster.campaign(id);
    if (cluster.settleUntil(() => roleOf(cluster, id) === 'leader')) return;
  }
  throw new Error(`${id} did not win an election in ${attempts} attempts`);
}

/** Propose `count` writes at the leader `id`, then run `ticks` ticks so they commit and apply. */
export function writeAndSettle(cluster: SimCluster, id: NodeId, count: number, ticks = 3, prefix = 'w'): void {
  for (let i = 0; i < count; i++) {
    const r = cluster.propose(id, `${prefix}${i}`);
    if (!r.ok) throw new Error(`write ${prefix}${i} at ${id} refused: ${r.code}`);
    cluster.settle();
  }
  cluster.runTicks(ticks);
}

/** Every listed node has applied exactly the same prefix, up to the same index. */
export function appliedAlike(cluster: SimCluster, ids: readonly NodeId[]): boolean {
  const nodes = ids.map((id) => cluster.node(id));
  return nodes.every((n) => n.applied === nodes[0]!.applied && n.appliedChain === nodes[0]!.appliedChain);
}

/** Texts of the Normal entries a node applied, in index order (no-ops left out). */
export function appliedTexts(cluster: SimCluster, id: NodeId): string[] {
  return [...cluster.node(id).appliedData.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, data]) => data)
    .filter((d) => d !== '');
}
