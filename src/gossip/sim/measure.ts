/**
 * The simulated measurements behind bench/gossip.ts (and a quick check in the tests): the
 * cluster is formed already converged, runs on LAN defaults, and every figure is read off the
 * simulation's virtual clock.
 */
import type { GossipConfig } from '../config.js';
import { SimCluster } from './sim-cluster.js';

export interface SpreadResult {
  /** ms until 99.99% of the other nodes saw each trial's new entry. */
  trialsMs: number[];
  /** Bytes per second each node sent (sealed UDP + TCP payloads) during the trials: mean and max. */
  bytesPerSecondMean: number;
  bytesPerSecondMax: number;
}

export function formCluster(n: number, config: GossipConfig, seed: number, dropRate = 0): SimCluster {
  const sim = new SimCluster({ seed, config, dropRate, minDelayMs: 1, maxDelayMs: 5 });
  sim.formConverged(Array.from({ length: n }, (_, i) => ({ id: `n${i}`, addr: SimCluster.addrOf(i + 1), networks: ['net1'] })));
  sim.runFor(5_000);
  return sim;
}

export function measureSpread(sim: SimCluster, trials: number): SpreadResult {
  const n = sim.upNodes().length;
  const need = Math.ceil(0.9999 * (n - 1));
  const bytesBefore = new Map(sim.allNodes().map((x) => [x.id, x.bytesSent]));
  const start = sim.now;
  const trialsMs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const key = `trial-${t}`;
    const seen = new Set<string>();
    let last = 0;
    sim.onEvent = (node, e, at) => {
      if (e.kind === 'table' && e.action === 'create' && e.key === key && !seen.has(node)) {
        seen.add(node);
        if (seen.size === need) last = at;
      }
    };
    const writer = sim.upNodes()[sim.rng.int(n)]!;
    const t0 = sim.now;
    sim.act(writer.id, (c, now) => c.put(now, 'net1', 'endpoint_table', key, new TextEncoder().encode(`10.0.0.${t}`)));
    seen.add(writer.id); // the writer knows its own entry; the others must learn it
    if (!sim.runUntilTrue(() => seen.size - 1 >= need, 60_000, 5)) throw new Error(`entry ${key} reached only ${seen.size - 1} of ${need} nodes`);
    trialsMs.push(last - t0);
    sim.runFor(3_000);
  }
  sim.onEvent = () => {};
  const seconds = (sim.now - start) / 1000;
  const rates = sim.allNodes().map((x) => (x.bytesSent - bytesBefore.get(x.id)!) / seconds);
  return { trialsMs, bytesPerSecondMean: rates.reduce((a, b) => a + b, 0) / rates.length, bytesPerSecondMax: Math.max(...rates) };
}

/** ms from a crash until every live node marks the node dead, per trial (the node is restarted between trials). */
export function measureDetection(sim: SimCluster, trials: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < trials; t++) {
    const up = sim.upNodes();
    const victim = up[sim.rng.int(up.length)]!.id;
    const others = up.filter((x) => x.id !== victim);
    const marked = new Set<string>();
    let last = 0;
    sim.onEvent = (node, e, at) => {
      if (e.kind === 'member' && e.member.id === victim && e.member.state === 'dead' && !marked.has(node)) {
        marked.add(node);
        last = at;
      }
    };
    const t0 = sim.now;
    sim.crash(victim);
    if (!sim.runUntilTrue(() => others.every((x) => marked.has(x.id)), 120_000, 5)) throw new Error(`${victim} was not marked dead by all`);
    out.push(last - t0);
    sim.onEvent = () => {};
    sim.restart(victim);
    // Rejoin through a few live nodes, as a restarted daemon does through the managers.
    sim.node(victim).seeds = others.slice(0, 3).map((x) => x.addr);
    sim.act(victim, (c, now) => c.joinSeeds(now, sim.node(victim).seeds));
    sim.runUntilTrue(() => others.every((x) => x.core.member(victim)?.state === 'alive'), 120_000, 100);
    sim.runFor(5_000);
  }
  return out;
}

/** Live nodes declared dead by anyone during `ms` at `dropRate` packet loss; also counts suspicions. */
export function measureFalsePositives(sim: SimCluster, dropRate: number, ms: number): { falseDead: number; suspicions: number } {
  let falseDead = 0;
  let suspicions = 0;
  sim.dropRate = dropRate;
  sim.onEvent = (_, e) => {
    if (e.kind !== 'member') return;
    if (e.member.state === 'dead' && sim.node(e.member.id).up) falseDead++;
    if (e.member.state === 'suspect') suspicions++;
  };
  sim.runFor(ms);
  sim.onEvent = () => {};
  sim.dropRate = 0;
  return { falseDead, suspicions };
}
