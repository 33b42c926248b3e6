import type { KernelOp } from './types.js';

/**
 * The order in which kinds of ops run. The planner sorts its plan by stage (stably, so its
 * own order holds within a stage); the real kernel runs each stage as one batch, so ops of
 * one stage must not depend on each other across namespaces.
 *
 *  0 early deletes of links that block a replacement, then new namespaces
 *  1 new links (all created from the host namespace, straight into their namespace)
 *  2 link settings, addresses, routes, neighbours, FDB entries, nft tables, sysctls
 *  3 removal of stale addresses, routes, neighbours, FDB entries
 *  4 removal of stale links and nft tables (before 5: an adopted namespace is only unmounted,
 *    so a table of ours in it must go first)
 *  5 removal of stale namespaces
 *
 * Adds come before deletes (stages 0-2 before 3-5) so that a change never cuts traffic that
 * both the old and the new state allow.
 */
export function stageOf(op: KernelOp): number {
  switch (op.op) {
    case 'netns-add':
      return 0;
    case 'link-del':
      return op.early === true ? 0 : 4;
    case 'bridge-add':
    case 'vxlan-add':
    case 'veth-add':
      return 1;
    case 'link-set':
    case 'addr-add':
    case 'route-add':
    case 'neigh-add':
    case 'fdb-add':
    case 'nft-table':
    case 'sysctl':
      return 2;
    case 'addr-del':
    case 'route-del':
    case 'neigh-del':
    case 'fdb-del':
      return 3;
    case 'nft-table-del':
      return 4;
    case 'netns-del':
      return 5;
  }
}

/** Sorts ops by stage, keeping the given order within a stage. */
export function sortByStage(ops: readonly KernelOp[]): KernelOp[] {
  return ops
    .map((op, i) => ({ op, i, s: stageOf(op) }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.op);
}
