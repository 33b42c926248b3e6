/**
 * Named scenarios on the simulated network, each checking one promise of the issue with
 * hundreds of nodes where it matters. Virtual time; a fixed seed per scenario.
 */
import { describe, expect, it } from 'vitest';
import { resolveGossipConfig } from '../../../src/gossip/config.js';
import { formCluster, measureFalsePositives } from '../../../src/gossip/sim/measure.js';
import { SimCluster } from '../../../src/gossip/sim/sim-cluster.js';
import { membershipProblems, tableProblems } from './checks.js';

const lan = resolveGossipConfig({});
const T = 'endpoint_table';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const keysOn = (sim: SimCluster, id: string, net = 'net1'): string[] => sim.node(id).core.entries(net, T).map((e) => e.key);

describe('gossip simulation scenarios', () => {
  it('200 nodes joining through three seeds converge to one membership', () => {
    const sim = new SimCluster({ seed: 11, config: lan, dropRate: 0.01 });
    for (let i = 0; i < 200; i++) {
      sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0', 'n1', 'n2'].slice(0, Math.min(i, 3)), ['net1']);
      sim.runFor(20);
    }
    expect(sim.runUntilTrue(() => membershipProblems(sim).length === 0, 120_000, 1_000)).toBe(true);
  }, 120_000);

  it('declares no live node dead at 10% packet loss (100 nodes, 3 simulated minutes)', () => {
    const sim = formCluster(100, lan, 12);
    const r = measureFalsePositives(sim, 0.1, 180_000);
    expect(r.suspicions).toBeGreaterThan(0); // the loss really did cause suspicions...
    expect(r.falseDead).toBe(0); // ...and every one was refuted in time
  }, 120_000);

  it('heals a partition of 100 nodes without a manual step, tables included', () => {
    const sim = formCluster(100, lan, 13);
    const left = Array.from({ length: 50 }, (_, i) => `n${i}`);
    sim.partition([left]);
    sim.runFor(30_000);
    expect(sim.node('n0').core.member('n99')?.state).toBe('dead');
    expect(sim.node('n99').core.member('n0')?.state).toBe('dead');
    sim.act('n0', (c, now) => c.put(now, 'net1', T, 'left-side', enc('a')));
    sim.act('n99', (c, now) => c.put(now, 'net1', T, 'right-side', enc('b')));
    sim.runFor(10_000);
    expect(keysOn(sim, 'n1')).toEqual(['left-side']);
    sim.heal();
    const expected = new Map([['net1', new Map([[T, new Map([['left-side', 'a'], ['right-side', 'b']])]])]]);
    expect(sim.runUntilTrue(() => membershipProblems(sim).length === 0 && tableProblems(sim, expected, ['net1']).length === 0, 180_000, 1_000)).toBe(true);
  }, 120_000);

  it('withdraws a dead node\'s entries from every view and restores them when it returns, with events', () => {
    const sim = formCluster(50, lan, 14);
    // What a subscriber (the dataplane) is told of ep-7, per node: the last create/delete.
    const told = new Map<string, string>();
    sim.onEvent = (node, e) => {
      if (e.kind === 'table' && e.key === 'ep-7') told.set(node, e.action === 'delete' ? 'gone' : 'there');
    };
    sim.act('n7', (c, now) => c.put(now, 'net1', T, 'ep-7', enc('10.0.0.7')));
    sim.runFor(5_000);
    expect(sim.upNodes().every((n) => keysOn(sim, n.id).includes('ep-7'))).toBe(true);
    sim.partition([['n7']]); // n7 looks dead to the others but keeps its state
    expect(sim.runUntilTrue(() => sim.upNodes().every((n) => n.id === 'n7' || !keysOn(sim, n.id).includes('ep-7')), 30_000)).toBe(true);
    expect(keysOn(sim, 'n7')).toEqual(['ep-7']);
    const others = sim.upNodes().filter((n) => n.id !== 'n7').map((n) => n.id);
    expect(others.filter((id) => told.get(id) !== 'gone')).toEqual([]);
    sim.heal();
    expect(sim.runUntilTrue(() => sim.upNodes().every((n) => keysOn(sim, n.id).includes('ep-7')), 60_000)).toBe(true);
    expect(others.filter((id) => told.get(id) !== 'there')).toEqual([]);
  }, 60_000);

  it('a restarted node catches up, and withdraws the entries it no longer has', () => {
    const sim = new SimCluster({ seed: 15, config: lan });
    for (let i = 0; i < 30; i++) sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0'], ['net1']);
    sim.runFor(20_000);
    sim.act('n5', (c, now) => c.put(now, 'net1', T, 'old-5', enc('x')));
    sim.runFor(5_000);
    sim.crash('n5');
    sim.act('n1', (c, now) => c.put(now, 'net1', T, 'while-down', enc('y')));
    sim.runFor(15_000);
    sim.restart('n5');
    const expected = new Map([['net1', new Map([[T, new Map([['while-down', 'y']])]])]]);
    expect(sim.runUntilTrue(() => membershipProblems(sim).length === 0 && tableProblems(sim, expected, ['net1']).length === 0, 120_000, 500)).toBe(true);
  }, 60_000);

  it('a restarted seed with no seeds of its own catches up within a few probe intervals', () => {
    // The sole manager is every worker's seed and has none itself: restarted quickly (nobody
    // declared it dead), it knows no one until someone talks to it, and its networks' tables
    // stay empty until it knows a member to pull them from. A probe from a stranger makes it
    // push-pull with that member, and a network joined before any member was known is pulled
    // as soon as one is. Before that, a periodic push-pull had to pick it: 3 s to 55 s here.
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new SimCluster({ seed, config: lan });
      for (let i = 0; i < 5; i++) sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0'], ['net1']);
      sim.runFor(20_000);
      sim.act('n3', (c, now) => c.put(now, 'net1', T, 'ep-3', enc('x')));
      sim.runFor(2_000);
      sim.crash('n0');
      sim.restart('n0');
      const expected = new Map([['net1', new Map([[T, new Map([['ep-3', 'x']])]])]]);
      const caughtUp = (): boolean => sim.node('n0').core.memberList().filter((m) => m.state === 'alive').length === 5 && tableProblems(sim, expected, ['net1']).length === 0;
      expect({ seed, caughtUp: sim.runUntilTrue(caughtUp, 4_000, 50) }).toEqual({ seed, caughtUp: true });
    }
  }, 60_000);

  it('a node that first hears of its network\'s members from a push-pull it did not start pulls the tables too', () => {
    // Here another member's periodic push-pull reaches the restarted n0 before any probe does:
    // n0 learns every member and which networks they are in, but as the answering side it had
    // no reason to bulk-sync; its network was joined with no member known, so it is pulled now.
    const sim = new SimCluster({ seed: 20, config: lan });
    for (let i = 0; i < 30; i++) sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0'], ['net1']);
    sim.runFor(20_000);
    sim.act('n7', (c, now) => c.put(now, 'net1', T, 'ep-7', enc('x')));
    sim.runFor(5_000);
    sim.crash('n0');
    sim.restart('n0');
    const expected = new Map([['net1', new Map([[T, new Map([['ep-7', 'x']])]])]]);
    expect(sim.runUntilTrue(() => tableProblems(sim, expected, ['net1']).length === 0, 3_000, 50)).toBe(true);
  }, 60_000);

  it('shares a network\'s tables only with its members', () => {
    const sim = new SimCluster({ seed: 16, config: lan, dropRate: 0.05 });
    for (let i = 0; i < 60; i++) sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0'], i % 3 === 0 ? ['red'] : ['blue']);
    sim.runFor(20_000);
    sim.act('n3', (c, now) => c.put(now, 'red', T, 'r', enc('1')));
    sim.act('n4', (c, now) => c.put(now, 'blue', T, 'b', enc('2')));
    const expected = new Map([['red', new Map([[T, new Map([['r', '1']])]])], ['blue', new Map([[T, new Map([['b', '2']])]])]]);
    expect(sim.runUntilTrue(() => tableProblems(sim, expected, ['red', 'blue']).length === 0, 60_000, 200)).toBe(true);
    // Outsiders were never even sent the other network's entries.
    expect(sim.upNodes().reduce((s, n) => s + n.core.counters.foreignTableEvents, 0)).toBe(0);
  }, 60_000);

  it('spreads an entry too large for a packet (over TCP) to every member of its network', () => {
    const sim = formCluster(60, lan, 19, 0.05);
    const big = 'x'.repeat(20_000);
    sim.act('n3', (c, now) => c.put(now, 'net1', T, 'big', enc(big)));
    expect(sim.runUntilTrue(() => sim.upNodes().every((n) => n.core.entries('net1', T).some((e) => e.key === 'big' && e.value.length === big.length)), 10_000, 50)).toBe(true);
  }, 60_000);

  it('a graceful leave shows as left (not dead) everywhere, and left members are not probed', () => {
    const sim = formCluster(40, lan, 17);
    sim.act('n9', (c, now) => c.leave(now));
    sim.runFor(600);
    sim.crash('n9');
    expect(sim.runUntilTrue(() => sim.upNodes().every((n) => n.core.member('n9')?.state === 'left'), 20_000)).toBe(true);
    sim.runFor(30_000);
    expect(sim.upNodes().every((n) => n.core.member('n9')?.state === 'left')).toBe(true);
  }, 60_000);

  it('reaps dead members after deadMemberReapMs and tombstones after tombstoneReapMs', () => {
    const config = resolveGossipConfig({ deadMemberReapMs: 60_000, tombstoneReapMs: 30_000 });
    const sim = new SimCluster({ seed: 18, config });
    for (let i = 0; i < 10; i++) sim.addNode(`n${i}`, SimCluster.addrOf(i + 1), i === 0 ? [] : ['n0'], ['net1']);
    sim.runFor(10_000);
    sim.act('n1', (c, now) => c.put(now, 'net1', T, 'gone', enc('z')));
    sim.runFor(2_000);
    sim.act('n1', (c, now) => c.delete(now, 'net1', T, 'gone'));
    sim.crash('n2');
    sim.runFor(10_000);
    expect(sim.node('n0').core.member('n2')?.state).toBe('dead');
    expect(sim.node('n0').core.storedEntries('net1').map((e) => [e.key, e.deleted])).toEqual([['gone', true]]);
    sim.runFor(70_000);
    expect(sim.upNodes().every((n) => n.core.storedEntries('net1').length === 0)).toBe(true);
    expect(sim.node('n0').core.member('n2')).toBeUndefined();
  }, 60_000);
});
