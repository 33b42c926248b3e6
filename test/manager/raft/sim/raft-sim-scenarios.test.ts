import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../../src/manager/raft/types.js';
import { awaitProgress, healEverything, livenessBound } from './liveness.js';
import { CALM } from './sim-network.js';
import { appliedAlike, appliedTexts, elect, newCluster, roleOf, withTrace, writeAndSettle } from './scenario-helpers.js';

/**
 * Named situations from the Raft paper and from operating a cluster, driven step by step
 * through the same simulator as the seeded runs, so every invariant is checked throughout.
 */
describe('raft simulation scenarios', () => {
  it('leader isolated then healed: the majority moves on and the old leader loses its unacknowledged write', () => {
    const c = newCluster({ tunables: { checkQuorum: false } });
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 3);
      c.partition([['n1']]);
      expect(c.propose('n1', 'stale').ok).toBe(true); // it still believes it leads
      const staleRead = c.readIndex('n1');
      expect(c.runUntil(() => roleOf(c, 'n2') === 'leader' || roleOf(c, 'n3') === 'leader', 60)).toBe(true);
      const leader = roleOf(c, 'n2') === 'leader' ? 'n2' : 'n3';
      writeAndSettle(c, leader, 2, 3, 'fresh');
      // Cut off from the majority, the old leader could not confirm its lead for the read.
      expect(c.node('n1').readsServed).not.toContain(staleRead);
      c.heal();
      const progress = awaitProgress(c, livenessBound(10));
      expect(roleOf(c, 'n1')).not.toBe('leader');
      expect(appliedAlike(c, ['n1', 'n2', 'n3'])).toBe(true);
      for (const id of ['n1', 'n2', 'n3']) {
        expect(appliedTexts(c, id)).not.toContain('stale');
        expect(appliedTexts(c, id)).toEqual(expect.arrayContaining(['w0', 'w1', 'w2', 'fresh0', 'fresh1']));
      }
      expect(progress.index).toBeGreaterThan(5);
    });
  });

  it('Figure 8 of the paper: an old-term entry on a majority is not committed by counting replicas', () => {
    const c = newCluster({
      voters: ['n1', 'n2', 'n3', 'n4', 'n5'],
      // One entry per App message, so the old-term entry can travel without the new one.
      tunables: { preVote: false, checkQuorum: false, maxSizePerMsg: 1 },
    });
    withTrace(c, () => {
      // (a) n1 leads term 2 and appends index 3, which nobody else receives.
      elect(c, 'n1');
      c.runTicks(2);
      const term2 = c.node('n1').core.status().term;
      c.partition([['n1']]);
      const a = c.propose('n1', 'fig8-a');
      expect(a.ok && a.index === 3).toBe(true);
      expect(c.settleUntil(() => c.node('n1').disk.termAt(3) === term2)).toBe(true);
      c.crash('n1');
      // (b) n5 wins term 3, appends index 3 of its own term, and is cut off before anyone
      // else receives it.
      c.heal();
      elect(c, 'n5');
      c.partition([['n5']]);
      c.settle();
      const term3 = c.node('n5').core.status().term;
      expect(c.node('n5').disk.termAt(3)).toBe(term3);
      c.crash('n5');
      // (c) n1 returns, wins a later term with n2 and n3, and replicates its old index 3 to
      // both: now on a majority, but not from the current term, so it must not count as
      // committed (that is what makes step (d) safe).
      c.restart('n1');
      c.partition([['n1', 'n2', 'n3'], ['n4'], ['n5']]);
      elect(c, 'n1');
      const term4 = c.node('n1').core.status().term;
      // Lose every App that would put n1's own (term 4) entry after index 3 on a follower;
      // probes that the follower rejects still get through, so index 3 travels alone.
      c.dropIf = (m) =>
        m.type === MessageType.App &&
        m.entries.some((e) => e.term === term4) &&
        c.node(m.to).disk.termAt(m.index) === m.logTerm;
      expect(c.runUntil(() => c.node('n2').disk.termAt(3) === term2 && c.node('n3').disk.termAt(3) === term2, 20)).toBe(true);
      c.runTicks(2);
      expect(c.node('n1').core.status().progress?.get('n2')?.match).toBe(3);
      expect(c.node('n1').core.status().progress?.get('n3')?.match).toBe(3);
      expect(c.node('n1').core.status().commit).toBeLessThan(3);
      c.crash('n1');
      c.dropIf = undefined;
      // (d) n5 returns and wins with n2, n3 and n4 (its last term is higher), and overwrites index 3.
      c.restart('n5');
      c.heal();
      elect(c, 'n5');
      c.runTicks(3);
      for (const id of ['n2', 'n3', 'n4', 'n5']) expect(c.node(id).disk.termAt(3)).toBe(term3);
      c.restart('n1');
      awaitProgress(c, livenessBound(10));
      for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) {
        expect(appliedTexts(c, id)).not.toContain('fig8-a');
        expect(c.node(id).applied).toBeGreaterThanOrEqual(4);
      }
      expect(c.checker.appliedTermAt(3)).toBe(term3);
    });
  });

  it('crash with a torn WAL tail during a leader election: an unpersisted vote may be cast again', () => {
    const c = newCluster({ tunables: { preVote: false, checkQuorum: false } });
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 4);
      const acknowledged = appliedTexts(c, 'n1');
      c.crash('n1');
      // n2 campaigns and crashes while writing its self-vote: nothing reaches the disk and its
      // Vote requests are never sent.
      c.campaign('n2');
      const before = c.node('n2').disk.hardState;
      c.crash('n2', () => 0);
      expect(c.node('n2').disk.hardState).toMatchObject({ term: before.term, vote: before.vote });
      c.restart('n2');
      // n3 campaigns for the same term; n2 is free to vote for it.
      elect(c, 'n3');
      expect(c.node('n2').disk.hardState.vote).toBe('n3');
      // A follower crashes with only part of a batch of entries written.
      for (let i = 0; i < 3; i++) c.propose('n3', `after${i}`);
      expect(c.settleUntil(() => c.node('n2').hasWork())).toBe(true);
      c.crash('n2', (records) => Math.floor(records / 2));
      c.restart('n2');
      c.restart('n1');
      awaitProgress(c, livenessBound(10));
      expect(appliedAlike(c, ['n1', 'n2', 'n3'])).toBe(true);
      for (const id of ['n1', 'n2', 'n3']) {
        expect(appliedTexts(c, id)).toEqual(expect.arrayContaining([...acknowledged, 'after0', 'after1', 'after2']));
      }
    });
  });

  it('snapshot transfer to a restarted node, including a lost snapshot that is sent again', () => {
    const c = newCluster({ snapshotPolicy: { chance: 1, minGap: 5, keep: 0 } });
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 3);
      c.crash('n3');
      writeAndSettle(c, 'n1', 30, 3, 'while-down');
      expect(c.node('n1').disk.snapshotIndex()).toBeGreaterThan(c.node('n3').disk.lastIndex());
      let snapshotsLost = 0;
      c.dropIf = (m) => {
        if (m.type !== MessageType.Snap || snapshotsLost > 0) return false;
        snapshotsLost++;
        return true;
      };
      c.restart('n3');
      awaitProgress(c, livenessBound(10));
      expect(snapshotsLost).toBe(1);
      expect(c.stats.snapshotsSent).toBeGreaterThanOrEqual(1);
      expect(c.node('n3').disk.snapshotIndex()).toBeGreaterThan(5);
      expect(appliedAlike(c, ['n1', 'n2', 'n3'])).toBe(true);
    });
  });

  it('learner added, caught up, promoted; the new voter then helps form a quorum', () => {
    const c = newCluster({ snapshotPolicy: { chance: 0.5, minGap: 3, keep: 1 } });
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 10);
      c.addNode('n4');
      expect(c.proposeConfChange('n1', { type: 'addLearner', nodeId: 'n4' }).ok).toBe(true);
      expect(c.runUntil(() => c.node('n4').applied === c.node('n1').applied, 30)).toBe(true);
      expect(c.node('n1').core.status().confState.learners).toContain('n4');
      // A learner never campaigns.
      c.campaign('n4');
      c.settle();
      expect(roleOf(c, 'n4')).toBe('follower');
      expect(c.proposeConfChange('n1', { type: 'promote', nodeId: 'n4' }).ok).toBe(true);
      expect(c.runUntil(() => c.node('n4').confState.voters.includes('n4'), 30)).toBe(true);
      // Four voters: n2, n3 and n4 form a quorum without n1, and n2 + n3 alone do not.
      c.crash('n1');
      c.crash('n3');
      c.runTicks(60);
      expect(['n2', 'n4'].some((id) => roleOf(c, id) === 'leader')).toBe(false);
      c.restart('n3');
      expect(c.runUntil(() => ['n2', 'n3', 'n4'].some((id) => roleOf(c, id) === 'leader'), livenessBound(10))).toBe(true);
      const leader = ['n2', 'n3', 'n4'].find((id) => roleOf(c, id) === 'leader')!;
      writeAndSettle(c, leader, 1, 5, 'with-n4');
      for (const id of ['n2', 'n3', 'n4']) expect(appliedTexts(c, id)).toContain('with-n40');
    });
  });

  it('removing the leader: it steps down, the rest elect a leader, and then it shuts down', () => {
    const c = newCluster();
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 2);
      expect(c.proposeConfChange('n1', { type: 'remove', nodeId: 'n1' }).ok).toBe(true);
      expect(c.runUntil(() => c.node('n1').confState.voters.length === 2, 5)).toBe(true);
      expect(roleOf(c, 'n1')).toBe('follower');
      expect(c.runUntil(() => c.node('n1').decommissioned, livenessBound(10))).toBe(true);
      expect(c.node('n1').up).toBe(false);
      healEverything(c);
      awaitProgress(c, livenessBound(10));
      expect(c.leader()?.core.status().confState.voters).toEqual(expect.arrayContaining(['n2', 'n3']));
      expect(c.leader()?.core.status().confState.voters).not.toContain('n1');
    });
  });

  it('followers told that the leader is unreachable elect a new one within one election timeout', () => {
    // Ticks from the leader's crash until a new leader, with or without the transport telling
    // the followers that the leader's stream broke. Same seed: same randomized timeouts.
    const electionAfterCrash = (transportReports: boolean): number => {
      const c = newCluster({ seed: 7 });
      let ticks = -1;
      withTrace(c, () => {
        elect(c, 'n1');
        writeAndSettle(c, 'n1', 2);
        c.network.weather = { ...CALM, unreachableRate: transportReports ? 1 : 0 };
        c.crash('n1');
        const start = c.now;
        expect(c.runUntil(() => c.leader() !== undefined, 4 * 10)).toBe(true);
        ticks = c.now - start;
      });
      return ticks;
    };
    const told = electionAfterCrash(true);
    const notTold = electionAfterCrash(false);
    expect(told).toBeLessThanOrEqual(10);
    expect(told).toBeLessThan(notTold);
  });

  it('a read served after a partition heals reflects every write acknowledged before it', () => {
    const c = newCluster({ voters: ['n1', 'n2', 'n3', 'n4', 'n5'] });
    withTrace(c, () => {
      elect(c, 'n1');
      writeAndSettle(c, 'n1', 2);
      c.partition([['n1', 'n2'], ['n3', 'n4', 'n5']]);
      expect(c.runUntil(() => ['n3', 'n4', 'n5'].some((id) => roleOf(c, id) === 'leader'), 60)).toBe(true);
      const leader = ['n3', 'n4', 'n5'].find((id) => roleOf(c, id) === 'leader')!;
      writeAndSettle(c, leader, 3, 3, 'majority');
      // A read at the minority side can never be confirmed.
      const minorityRead = c.readIndex('n2');
      c.runTicks(5);
      expect(c.node('n2').readsServed).not.toContain(minorityRead);
      c.heal();
      awaitProgress(c, livenessBound(10));
      const read = c.readIndex('n2');
      expect(c.runUntil(() => c.node('n2').readsServed.includes(read), 10)).toBe(true);
      expect(c.checker.readStatesChecked).toBeGreaterThanOrEqual(1);
    });
  });
});
