/**
 * SWIM's failure detector for one node: a probe per probe interval (ping; after the probe
 * timeout, indirect pings through k members and a TCP ping; at the end of the interval,
 * suspicion), Lifeguard's health score updates, and the relaying of other nodes' indirect
 * pings (ack forwarded, or a nack when the target stays silent).
 */
import type { GossipConfig } from '../config.js';
import { encodeMessage, encodeStreamFrame } from '../wire/codec.js';
import type { GossipMessage, IndirectPingMsg } from '../wire/messages.js';
import type { Awareness } from './awareness.js';
import { scaledByAwareness } from './formulas.js';
import { isActiveState, type MemberList } from './member-list.js';
import type { CoreCounters } from './types.js';

/** What the prober needs from the core it belongs to. */
export interface ProbeHost {
  readonly id: string;
  readonly addr: string;
  readonly members: MemberList;
  readonly awareness: Awareness;
  readonly counters: CoreCounters;
  nextSeq(): number;
  sendPacket(to: string, encoded: Uint8Array[]): void;
  /** Sends `first` (and `extra`) with pending membership broadcasts piggybacked. */
  sendWithPiggyback(to: string, first: Uint8Array, extra: Uint8Array[]): void;
  /** Starts a TCP ping whose Ack the core passes back through ackReceived. */
  startStreamPing(to: string, frame: Uint8Array, seq: number): void;
  suspect(now: number, node: string, incarnation: number, confirmations: number): void;
}

interface Probe {
  seq: number;
  target: string;
  timeoutAt: number;
  endAt: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  originSeq: number;
  originAddr: string;
  nackAt: number;
}

export class Prober {
  private probe: Probe | undefined;
  private readonly relays = new Map<number, Relay>();
  private nextProbeAt: number;

  constructor(
    private readonly cfg: GossipConfig,
    private readonly host: ProbeHost,
    firstProbeAt: number,
  ) {
    this.nextProbeAt = firstProbeAt;
  }

  nextWakeup(): number {
    let t = this.probe === undefined ? this.nextProbeAt : this.probe.indirectSent ? this.probe.endAt : this.probe.timeoutAt;
    for (const r of this.relays.values()) t = Math.min(t, r.nackAt);
    return t;
  }

  tick(now: number, leaving: boolean): void {
    if (this.probe !== undefined) this.advance(now);
    if (leaving) {
      this.nextProbeAt = now + this.cfg.probeIntervalMs;
    } else if (this.probe === undefined && now >= this.nextProbeAt) {
      this.start(now);
      this.nextProbeAt = now + scaledByAwareness(this.cfg.probeIntervalMs, this.host.awareness.healthScore);
    }
    for (const [seq, r] of this.relays) {
      if (now < r.nackAt) continue;
      this.relays.delete(seq);
      this.host.sendPacket(r.originAddr, [encodeMessage({ type: 'Nack', seq: r.originSeq })]);
    }
  }

  /** Probes the target for another node. */
  relay(now: number, m: IndirectPingMsg): void {
    const seq = this.host.nextSeq();
    // The nack goes out at 80% of the probe timeout, so it reaches the prober before its
    // probe interval ends (the prober sent the request a probe timeout into the interval).
    this.relays.set(seq, { originSeq: m.seq, originAddr: m.sourceAddr, nackAt: now + Math.floor(this.cfg.probeTimeoutMs * 0.8) });
    this.host.sendPacket(m.targetAddr, [encodeMessage({ type: 'Ping', seq, target: m.target, source: this.host.id, sourceAddr: this.host.addr })]);
  }

  /** An ack arrived: forward it if it answers a relayed ping, else settle our probe. */
  onAck(seq: number): void {
    const relay = this.relays.get(seq);
    if (relay !== undefined) {
      this.relays.delete(seq);
      this.host.sendPacket(relay.originAddr, [encodeMessage({ type: 'Ack', seq: relay.originSeq })]);
      return;
    }
    this.ackReceived(seq);
  }

  onNack(seq: number): void {
    if (this.probe !== undefined && this.probe.seq === seq) this.probe.nacks++;
  }

  ackReceived(seq: number): void {
    if (this.probe === undefined || this.probe.seq !== seq) return;
    this.probe = undefined;
    this.host.awareness.apply(-1);
  }

  private start(now: number): void {
    const target = this.host.members.nextProbeTarget();
    if (target === undefined) return;
    const score = this.host.awareness.healthScore;
    const seq = this.host.nextSeq();
    this.host.counters.probes++;
    this.probe = {
      seq,
      target: target.id,
      timeoutAt: now + scaledByAwareness(this.cfg.probeTimeoutMs, score),
      endAt: now + scaledByAwareness(this.cfg.probeIntervalMs, score),
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    const ping = encodeMessage({ type: 'Ping', seq, target: target.id, source: this.host.id, sourceAddr: this.host.addr });
    // Lifeguard's buddy system: a suspect hears of its suspicion from whoever probes it.
    const buddy: GossipMessage[] = target.state === 'suspect' ? [{ type: 'Suspect', node: target.id, incarnation: target.incarnation, from: this.host.id }] : [];
    this.host.sendWithPiggyback(target.addr, ping, buddy.map(encodeMessage));
  }

  private advance(now: number): void {
    const p = this.probe!;
    const target = this.host.members.get(p.target);
    if (target === undefined || !isActiveState(target.state)) {
      this.probe = undefined;
      return;
    }
    if (!p.indirectSent && now >= p.timeoutAt) {
      p.indirectSent = true;
      const helpers = this.host.members.random(this.cfg.indirectChecks, (m) => m.state === 'alive' && m.id !== p.target);
      const req = encodeMessage({ type: 'IndirectPing', seq: p.seq, target: target.id, targetAddr: target.addr, source: this.host.id, sourceAddr: this.host.addr });
      for (const h of helpers) this.host.sendPacket(h.addr, [req]);
      p.expectedNacks = helpers.length;
      if (this.cfg.tcpFallbackProbe) {
        const frame = encodeStreamFrame({ type: 'StreamPing', seq: p.seq, target: target.id, source: this.host.id, sourceAddr: this.host.addr });
        this.host.startStreamPing(target.addr, frame, p.seq);
      }
    }
    if (now < p.endAt) return;
    // No ack within the probe interval: suspect the target. Missing nacks mean this node's
    // own network may be the problem, which Lifeguard's score accounts for; the nacks that
    // did come are independent confirmations that the target is unreachable.
    this.probe = undefined;
    this.host.counters.failedProbes++;
    this.host.awareness.apply(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1);
    this.host.suspect(now, target.id, target.incarnation, p.nacks);
  }
}
