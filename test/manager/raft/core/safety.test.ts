// A small randomized check of the safety properties (Raft Figure 3) under message loss,
// partitions and restarts. The large simulator lives in test/manager/raft/sim/.
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../../../src/util/rng.js';
import { Network, str } from './helpers/network.js';

const ids = ['a', 'b', 'c', 'd', 'e'];

function runScenario(seed: number): void {
  const rng = seededRng(seed);
  const net = new Network(ids, { seed, tunables: { electionTick: 5 } });
  const leaderOfTerm = new Map<number, string>();
  const history = new Map<string, string[]>(); // everything each node ever applied, across restarts
  let proposed = 0;
  for (const id of ids) history.set(id, []);
  for (let step = 0; step < 300; step++) {
    const roll = rng.int(100);
    if (roll < 5) net.recover();
    else if (roll < 10) net.isolate(ids[rng.int(5)]!);
    else if (roll < 15) net.drop(ids[rng.int(5)]!, ids[rng.int(5)]!, rng.float());
    else if (roll < 17) {
      const id = ids[rng.int(5)]!;
      history.get(id)!.length = 0; // the state machine replays from scratch
      net.restart(id);
    }
    for (const n of net.nodes.values()) n.core.tick();
    for (const n of net.nodes.values()) {
      const st = n.core.status();
      if (st.role === 'leader') {
        // Election safety: at most one leader per term.
        const known = leaderOfTerm.get(st.term);
        expect(known === undefined || known === n.id).toBe(true);
        leaderOfTerm.set(st.term, n.id);
        if (rng.int(3) === 0) n.core.propose(new TextEncoder().encode(`v${proposed++}`));
      }
    }
    net.processAll();
    net.deliverQueued();
    for (const n of net.nodes.values()) {
      const h = history.get(n.id)!;
      const appliedNow = n.applied.map((e) => str(e.data));
      h.splice(0, h.length, ...appliedNow);
    }
    // State machine safety: every node applied a prefix of the same sequence.
    const seqs = [...history.values()].sort((x, y) => y.length - x.length);
    const longest = seqs[0]!;
    for (const s of seqs) expect(s).toEqual(longest.slice(0, s.length));
  }
  // Liveness once the network heals.
  net.recover();
  net.tickAll(60);
  expect(net.leaders().length).toBe(1);
}

describe('safety under random faults (small)', () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`seed ${seed}: one leader per term, applied sequences agree`, () => runScenario(seed));
  }
});
