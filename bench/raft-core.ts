/**
 * In-process throughput of the core (not a test: timings are never asserted). Three cores on
 * the helper network, 100-byte proposals, committed and applied on every node; proposals per
 * Ready cycle vary from 1 (no batching at all) to 1,000.
 *
 *   npm run bench:raft-core
 */
import { Network } from '../test/manager/raft/core/helpers/network.js';

function run(batch: number, total: number): number {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const leader = net.core('a');
  const data = new Uint8Array(100);
  const start = performance.now();
  for (let done = 0; done < total; done += batch) {
    for (let i = 0; i < batch; i++) {
      if (!leader.propose(data).ok) throw new Error('proposal refused');
      leader.hasReady(); // as a driver does after every event
    }
    net.stabilize();
    // Keep only what a real driver keeps.
    for (const n of net.nodes.values()) {
      n.readies.length = 0;
      n.applied.length = 0;
    }
    net.delivered.length = 0;
  }
  const elapsed = performance.now() - start;
  if (leader.status().commit < total) throw new Error('not everything committed');
  return (total / elapsed) * 1000;
}

for (const [batch, total] of [[1, 20_000], [10, 100_000], [100, 200_000], [1000, 300_000]] as const) {
  console.log(`batch ${batch}: ${Math.round(run(batch, total))} proposals/s committed and applied on 3 cores in one process`);
}
