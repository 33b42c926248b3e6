/**
 * What a converged cluster looks like, checked over every live node of a SimCluster:
 * the same membership (live nodes alive, crashed ones dead) and, per network, the same
 * visible table entries (exactly the expected ones), and none on nodes outside a network.
 */
import type { SimCluster } from '../../../src/gossip/sim/sim-cluster.js';

/** network -> table -> key -> value text, as every member of the network should see it. */
export type ExpectedTables = Map<string, Map<string, Map<string, string>>>;

export function membershipProblems(sim: SimCluster): string[] {
  const problems: string[] = [];
  const up = new Set(sim.upNodes().map((n) => n.id));
  for (const n of sim.upNodes()) {
    const seen = new Map(n.core.memberList().map((m) => [m.id, m.state]));
    for (const other of sim.allNodes()) {
      const state = seen.get(other.id);
      const want = up.has(other.id) ? 'alive' : 'dead';
      // A crashed node a live node never met may be unknown to it; that is converged too.
      if (want === 'dead' && (state === undefined || state === 'dead')) continue;
      if (state !== want) problems.push(`${n.id} sees ${other.id} as ${state ?? 'unknown'}, not ${want}`);
    }
  }
  return problems;
}

export function tableProblems(sim: SimCluster, expected: ExpectedTables, allNetworks: readonly string[]): string[] {
  const problems: string[] = [];
  const dec = new TextDecoder();
  for (const n of sim.upNodes()) {
    for (const network of allNetworks) {
      const member = n.core.inNetwork(network);
      const tables = expected.get(network) ?? new Map<string, Map<string, string>>();
      for (const [table, want] of tables) {
        const got = new Map(n.core.entries(network, table).map((e) => [e.key, dec.decode(e.value)]));
        const wantHere = member ? want : new Map<string, string>();
        for (const [k, v] of wantHere) if (got.get(k) !== v) problems.push(`${n.id} ${network}/${table}/${k} = ${got.get(k)}, not ${v}`);
        for (const k of got.keys()) if (!wantHere.has(k)) problems.push(`${n.id} ${network}/${table} has unexpected ${k}`);
      }
    }
  }
  return problems;
}
