import { describe, expect, it } from 'vitest';
import { resolveGossipConfig } from '../../src/gossip/config.js';
import { codeOf } from '../support/errors.js';

describe('gossip config', () => {
  it('defaults to the LAN profile the task fixes', () => {
    const c = resolveGossipConfig();
    expect([c.gossipIntervalMs, c.gossipNodes, c.probeIntervalMs, c.pushPullIntervalMs, c.packetLimit, c.tombstoneReapMs]).toEqual([200, 3, 1000, 30_000, 1400, 1_800_000]);
  });

  it('applies the local profile, then the caller fields', () => {
    const c = resolveGossipConfig({ gossipNodes: 4 }, 'local');
    expect([c.probeIntervalMs, c.gossipIntervalMs, c.gossipNodes]).toEqual([200, 50, 4]);
  });

  it.each([
    [{ gossipNodes: 0 }],
    [{ probeIntervalMs: 'fast' }],
    [{ probeTimeoutMs: 1000, probeIntervalMs: 1000 }],
    [{ packetLimit: 100 }],
  ])('refuses %j with CONFIG_INVALID', (input) => {
    expect(codeOf(() => resolveGossipConfig(input as never))).toBe('CONFIG_INVALID');
  });
});
