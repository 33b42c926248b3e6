import { z } from 'zod';
import { parseConfig } from '../config/parse-config.js';

/**
 * The gossip layer's one typed config. Every duration is in milliseconds. The LAN profile is
 * the default; `local` is the same protocol with shorter periods for tests on one machine.
 */
export const gossipConfigSchema = z.object({
  // 1,000 ms: each node probes one member per interval, so a dead member is first probed
  // about a second after it dies; the task fixes 1 s (memberlist's LAN value).
  probeIntervalMs: z.number().int().min(10).default(1_000),
  // 500 ms to wait for a direct ack before indirect and TCP probes: a few LAN round trips plus
  // scheduling slack (memberlist's LAN value). Must be below the probe interval.
  probeTimeoutMs: z.number().int().min(5).default(500),
  // 3 members asked to probe indirectly: with 10% loss all three paths fail together with
  // probability ~4%, and the TCP fallback covers most of what remains.
  indirectChecks: z.number().int().min(0).max(16).default(3),
  // on: a TCP ping is tried alongside the indirect probes, so a member whose UDP is filtered
  // or lossy is not suspected while TCP still reaches it (memberlist's behaviour).
  tcpFallbackProbe: z.boolean().default(true),
  // 0.5: the least suspicion timeout is suspicionMult * max(1, log10 N) * probeInterval
  // (1 s for 100 members, 1.5 s for 1,000). memberlist uses 4; ours can be lower because the
  // accuser counts the nacks of its indirect probers as confirmations (so only a member that
  // nobody reaches gets the least timeout) and the suspect refutes straight to the accuser, in
  // one round trip, and no node declares a death before asking the suspect over TCP once.
  // Measured (bench/gossip.ts): no false death at 10% loss over 30 simulated minutes of 100
  // nodes, and a killed node known dead to all 99 others after about 3 s (mean of 5 kills).
  suspicionMult: z.number().min(0.1).max(20).default(0.5),
  // 6: with no confirmation the suspicion timeout is 6x the least one (Lifeguard's beta).
  suspicionMaxTimeoutMult: z.number().min(1).max(100).default(6),
  // 3 independent confirmations shrink the timeout to its least value (Lifeguard's K).
  suspicionConfirmations: z.number().int().min(0).max(16).default(3),
  // 8: Lifeguard's local health score ranges 0..7, and probe interval and timeout are scaled
  // by (score + 1), so a node that is itself slow probes gently instead of accusing others.
  awarenessMaxMultiplier: z.number().int().min(1).max(64).default(8),
  // 200 ms between gossip rounds (memberlist's LAN value, fixed by the task).
  gossipIntervalMs: z.number().int().min(5).default(200),
  // 3 members per gossip round (fixed by the task); a broadcast reaches N members in about
  // log4(N) rounds.
  gossipNodes: z.number().int().min(1).max(32).default(3),
  // 4: a broadcast is sent retransmitMult * ceil(log10(N + 1)) times before it is dropped from
  // the queue (memberlist's value; 12 sends for 100 members, i.e. 4 rounds at fanout 3).
  retransmitMult: z.number().int().min(1).max(32).default(4),
  // 30 s: gossip is still sent to members dead for less than this, so a falsely dead member
  // hears of its death and refutes it (memberlist's LAN value).
  gossipToTheDeadMs: z.number().int().min(0).default(30_000),
  // 30 s between full-state push-pull syncs with one random member (the task's figure);
  // scaled up by log2 of N/32 beyond 32 members so the cluster's total TCP load stays flat.
  pushPullIntervalMs: z.number().int().min(100).default(30_000),
  // 30 s between table bulk syncs per network with one random member of that network
  // (networkdb's period).
  bulkSyncIntervalMs: z.number().int().min(100).default(30_000),
  // 10 s between attempts to reach one random dead (not left) member over TCP, which is how
  // two sides of a healed partition find each other again without a manual step.
  reconnectIntervalMs: z.number().int().min(100).default(10_000),
  // 60 s between re-checks of the seed addresses: a seed that is not an alive member is
  // pushed-pulled again (networkdb re-checks its bootstrap managers every 60 s).
  rejoinIntervalMs: z.number().int().min(100).default(60_000),
  // 5 s at least between two push-pulls with the same stranger: a member we do not know (or
  // think dead) that probes us is pushed-pulled at once, so a restarted node with no seed of
  // its own (a sole manager) learns the cluster from the first probe it gets; a burst of
  // probes from it costs one sync.
  strangerSyncBackoffMs: z.number().int().min(0).default(5_000),
  // 24 h before a dead member is forgotten (networkdb's value): until then it is retried and
  // its table entries are kept, hidden, so they come back the moment it does.
  deadMemberReapMs: z.number().int().min(0).default(24 * 60 * 60 * 1_000),
  // 30 min that a deleted table entry is kept as a tombstone, so a late or partitioned node
  // cannot resurrect it (networkdb's value, the task's default).
  tombstoneReapMs: z.number().int().min(0).default(30 * 60 * 1_000),
  // 5 s between reaper passes over tombstones and dead members (networkdb's period).
  reapIntervalMs: z.number().int().min(10).default(5_000),
  // 1,400 bytes per UDP packet after sealing (the task's default): below a 1,500-byte MTU
  // with room for IP/UDP headers and tunnels.
  packetLimit: z.number().int().min(256).max(65_000).default(1_400),
  // 10 s for a TCP exchange (connect, request, reply) before it counts as failed.
  streamTimeoutMs: z.number().int().min(10).default(10_000),
});

export type GossipConfig = z.output<typeof gossipConfigSchema>;
export type GossipConfigInput = z.input<typeof gossipConfigSchema>;

/** Profiles: named partial configs applied before the caller's own fields. */
export const gossipProfiles = {
  lan: {} as GossipConfigInput,
  // One machine, tens of processes: every period about 5x shorter, so tests and the demo see
  // a dead member within about a second; gossip still runs the same code paths.
  local: {
    probeIntervalMs: 200,
    probeTimeoutMs: 100,
    gossipIntervalMs: 50,
    gossipToTheDeadMs: 10_000,
    pushPullIntervalMs: 5_000,
    bulkSyncIntervalMs: 5_000,
    reconnectIntervalMs: 1_000,
    rejoinIntervalMs: 2_000,
    strangerSyncBackoffMs: 1_000,
    reapIntervalMs: 500,
    streamTimeoutMs: 2_000,
  } as GossipConfigInput,
} as const;

export type GossipProfile = keyof typeof gossipProfiles;

/** Validates a config: profile defaults first, then the caller's fields. Throws CONFIG_INVALID. */
export function resolveGossipConfig(input: GossipConfigInput = {}, profile: GossipProfile = 'lan'): GossipConfig {
  const merged = { ...gossipProfiles[profile], ...input };
  const parsed = parseConfig('gossip', gossipConfigSchema, merged);
  if (parsed.probeTimeoutMs >= parsed.probeIntervalMs) {
    return parseConfig('gossip', gossipConfigSchema.refine(() => false, { message: 'must be below probeIntervalMs', path: ['probeTimeoutMs'] }), merged);
  }
  return parsed;
}
