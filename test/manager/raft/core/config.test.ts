import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  createRaftCore,
  defaultRaftCoreTunables,
  resolveRaftCoreConfig,
} from '../../../../src/manager/raft/core/index.js';
import { seededRng } from '../../../../src/util/rng.js';
import { codeOf } from '../../../support/errors.js';

const wiring = () => ({ id: 'a', storage: new MemoryStorage({ voters: ['a'], learners: [] }), rng: seededRng(1) });

describe('raft core config', () => {
  it('has the documented defaults', () => {
    expect(defaultRaftCoreTunables).toEqual({
      electionTick: 10,
      heartbeatTick: 1,
      applied: 0,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 64 * 1024 * 1024,
      maxCommittedSizePerReady: 16 * 1024 * 1024,
      preVote: true,
      checkQuorum: true,
    });
  });

  it('fills defaults around what is given', () => {
    const c = resolveRaftCoreConfig(wiring(), { electionTick: 20 });
    expect(c.electionTick).toBe(20);
    expect(c.heartbeatTick).toBe(1);
    expect(c.id).toBe('a');
  });

  it.each([
    { name: 'heartbeatTick not below electionTick', tunables: { electionTick: 5, heartbeatTick: 5 } },
    { name: 'electionTick too small', tunables: { electionTick: 1 } },
    { name: 'fractional ticks', tunables: { electionTick: 10.5 } },
    { name: 'zero inflight window', tunables: { maxInflightMsgs: 0 } },
    { name: 'zero message size', tunables: { maxSizePerMsg: 0 } },
    { name: 'negative applied', tunables: { applied: -1 } },
    { name: 'wrong type', tunables: { preVote: 'yes' as unknown as boolean } },
  ])('rejects $name with CONFIG_INVALID', ({ tunables }) => {
    expect(codeOf(() => resolveRaftCoreConfig(wiring(), tunables))).toBe('CONFIG_INVALID');
    expect(codeOf(() => createRaftCore({ ...defaultRaftCoreTunables, ...wiring(), ...tunables }))).toBe('CONFIG_INVALID');
  });

  it('createRaftCore rejects an empty id with CONFIG_INVALID', () => {
    expect(codeOf(() => createRaftCore({ ...defaultRaftCoreTunables, ...wiring(), id: '' }))).toBe('CONFIG_INVALID');
  });

  it('createRaftCore rejects an applied index past the stored commit index', () => {
    expect(codeOf(() => createRaftCore({ ...defaultRaftCoreTunables, ...wiring(), applied: 5 }))).toBe('INTERNAL');
  });
});
