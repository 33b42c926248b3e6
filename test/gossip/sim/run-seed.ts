/**
 * One seeded chaos run: a cluster of gossip cores is put through packet loss, delays,
 * partitions, crashes, restarts, network joins and leaves and table writes, then the chaos
 * stops (partitions heal, loss falls to 1%) and every live node must converge to the same
 * membership and exactly the expected tables, with no manual step.
 */
import { resolveGossipConfig } from '../../../src/gossip/config.js';
import { SimCluster } from '../../../src/gossip/sim/sim-cluster.js';
import { seededRng } from '../../../src/util/rng.js';
import { membershipProblems, tableProblems, type ExpectedTables } from './checks.js';

export interface SeedResult {
  seed: number;
  ok: boolean;
  problems: string[];
  convergedAfterMs: number;
  actions: string[];
}

const NETWORKS = ['net-a', 'net-b', 'net-c'];
const TABLE = 'endpoint_table';

export function runSeed(seed: number, opts: { nodes?: number; chaosMs?: number; settleMs?: number } = {}): SeedResult {
  const rng = seededRng(seed ^ 0x5eed);
  const nodeCount = opts.nodes ?? 12 + rng.int(20);
  const config = resolveGossipConfig({});
  const sim = new SimCluster({ seed, config, dropRate: 0.02, minDelayMs: 1, maxDelayMs: 10 });
  const ids = Array.from({ length: nodeCount }, (_, i) => `n${i}`);
  const seeds = ['n0', 'n1', 'n2'];
  /** owner -> network -> key -> value: what each live owner has put and not deleted. */
  const owned = new Map<string, Map<string, Map<string, string>>>();
  const actions: string[] = [];
  let counter = 0;

  const ownedOf = (id: string): Map<string, Map<string, string>> => {
    let m = owned.get(id);
    if (m === undefined) owned.set(id, (m = new Map()));
    return m;
  };
  const pickUp = (): string | undefined => {
    const up = sim.upNodes();
    return up.length === 0 ? undefined : up[rng.int(up.length)]!.id;
  };

  ids.forEach((id, i) => {
    const nets = NETWORKS.filter(() => rng.float() < 0.5);
    sim.addNode(id, SimCluster.addrOf(i + 1), i < 3 ? seeds.slice(0, i) : seeds, nets);
    for (const n of nets) ownedOf(id).set(n, new Map());
    sim.runFor(rng.int(300));
  });
  sim.runFor(5_000);

  const chaosEnd = sim.now + (opts.chaosMs ?? 60_000);
  let partitionedUntil = 0;
  while (sim.now < chaosEnd) {
    sim.runFor(200 + rng.int(1_500));
    const roll = rng.float();
    const id = pickUp();
    if (id === undefined) continue;
    const node = sim.node(id);
    if (roll < 0.35) {
      const nets = [...ownedOf(id).keys()];
      if (nets.length === 0) continue;
      const net = nets[rng.int(nets.length)]!;
      const keys = ownedOf(id).get(net)!;
      if (keys.size > 0 && rng.float() < 0.3) {
        const key = [...keys.keys()][rng.int(keys.size)]!;
        keys.delete(key);
        sim.act(id, (c, now) => c.delete(now, net, TABLE, key));
        actions.push(`${sim.now} ${id} delete ${net}/${key}`);
      } else {
        const key = `${id}/k${rng.int(4)}`;
        const value = `v${++counter}`;
        keys.set(key, value);
        sim.act(id, (c, now) => c.put(now, net, TABLE, key, new TextEncoder().encode(value)));
        actions.push(`${sim.now} ${id} put ${net}/${key}=${value}`);
      }
    } else if (roll < 0.45) {
      sim.dropRate = rng.float() * 0.2;
      actions.push(`${sim.now} loss ${sim.dropRate.toFixed(2)}`);
    } else if (roll < 0.55 && sim.now >= partitionedUntil) {
      const side = ids.filter(() => rng.float() < 0.4);
      sim.partition([side]);
      partitionedUntil = sim.now + 2_000 + rng.int(20_000);
      actions.push(`${sim.now} partition [${side.join(',')}] until ${partitionedUntil}`);
    } else if (roll < 0.65) {
      const down = sim.allNodes().filter((n) => !n.up).length;
      if (down < nodeCount / 4) {
        sim.crash(id);
        owned.delete(id);
        actions.push(`${sim.now} crash ${id}`);
      }
    } else if (roll < 0.78) {
      const down = sim.allNodes().filter((n) => !n.up);
      if (down.length > 0) {
        const r = down[rng.int(down.length)]!;
        sim.restart(r.id);
        for (const n of r.networks) ownedOf(r.id).set(n, new Map());
        actions.push(`${sim.now} restart ${r.id}`);
      }
    } else if (roll < 0.88) {
      const net = NETWORKS[rng.int(NETWORKS.length)]!;
      if (ownedOf(id).has(net)) {
        ownedOf(id).delete(net);
        node.networks = node.networks.filter((n) => n !== net);
        sim.act(id, (c, now) => c.leaveNetwork(now, net));
        actions.push(`${sim.now} ${id} leaves ${net}`);
      } else {
        ownedOf(id).set(net, new Map());
        node.networks.push(net);
        sim.act(id, (c, now) => c.joinNetwork(now, net));
        actions.push(`${sim.now} ${id} joins ${net}`);
      }
    }
    if (sim.now >= partitionedUntil) sim.heal();
  }
  sim.heal();
  sim.dropRate = 0.01;
  actions.push(`${sim.now} chaos over`);

  const expected: ExpectedTables = new Map(NETWORKS.map((n) => [n, new Map([[TABLE, new Map<string, string>()]])]));
  for (const [owner, nets] of owned) {
    if (!sim.node(owner).up) continue;
    for (const [net, keys] of nets) for (const [k, v] of keys) expected.get(net)!.get(TABLE)!.set(k, v);
  }
  const start = sim.now;
  let problems: string[] = [];
  const ok = sim.runUntilTrue(
    () => {
      problems = [...membershipProblems(sim), ...tableProblems(sim, expected, NETWORKS)];
      return problems.length === 0;
    },
    opts.settleMs ?? 240_000,
    1_000,
  );
  return { seed, ok, problems: problems.slice(0, 20), convergedAfterMs: sim.now - start, actions };
}
