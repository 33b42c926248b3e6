import type { ConfChange, Message, NodeId, ProposeResult, Role } from '../../../../src/manager/raft/types.js';
import { seededRng, type Rng } from '../../../../src/util/rng.js';
import { bootstrapSnapshot } from './core-bindings.js';
import { EventTrace } from './event-trace.js';
import { EMPTY_CHAIN, chainNext, encodeImage, textBytes } from './hash-chain.js';
import { InvariantChecker, InvariantViolation, type LeaderView } from './invariant-checker.js';
import { RemovalPolicy } from './removal-policy.js';
import { SimNetwork, type Parcel } from './sim-network.js';
import { SimNode, type CoreTunables, type NodeEnv, type SnapshotPolicy, type Tear } from './sim-node.js';

export interface ClusterOptions {
  readonly seed: number;
  /** The initial voters; they all start from the same bootstrap snapshot. */
  readonly voters: readonly NodeId[];
  readonly tunables: CoreTunables;
  readonly snapshotPolicy: SnapshotPolicy;
  /** Steps within one tick before the tick happens regardless (a livelock guard). */
  readonly maxStepsPerTick?: number;
  /** Events kept for the failure report (default 60). */
  readonly traceCapacity?: number;
}

/** The chain value that stands for the bootstrap snapshot's (entry-less) index 1. */
const BOOTSTRAP_CHAIN = chainNext(EMPTY_CHAIN, { index: 1, term: 1, type: 0, data: textBytes('bootstrap') });

export interface ClusterStats {
  proposalsAccepted: number;
  proposalsRefused: number;
  reads: number;
  crashes: number;
  tornCrashes: number;
  restarts: number;
  snapshotsSent: number;
  messagesDelivered: number;
}

/**
 * A whole simulated cluster: nodes, network, time, and the invariant checker watching all of
 * it. One step is one event (a message delivered, one half of a Ready handled, a transport
 * report, or an outside action); invariants are checked as each step happens. Time advances
 * in ticks, given to every live node at once when nothing else is due.
 */
export class SimCluster implements NodeEnv {
  readonly rng: Rng;
  readonly trace: EventTrace;
  readonly checker: InvariantChecker;
  readonly network: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly tunables: CoreTunables;
  readonly snapshotPolicy: SnapshotPolicy;
  readonly stats: ClusterStats = {
    proposalsAccepted: 0,
    proposalsRefused: 0,
    reads: 0,
    crashes: 0,
    tornCrashes: 0,
    restarts: 0,
    snapshotsSent: 0,
    messagesDelivered: 0,
  };
  /** Which removed members the operator has shut down, and when it may. */
  readonly removals = new RemovalPolicy();
  now = 0;
  steps = 0;
  /** Chance that a node misses a tick (clock drift between processes). */
  tickSkipRate = 0;
  /** Tick until which a node's process is frozen (a long GC or VM pause): it does nothing. */
  private readonly pausedUntil = new Map<NodeId, number>();
  readonly isPaused = (id: NodeId): boolean => (this.pausedUntil.get(id) ?? 0) > this.now;
  /** Called when a node is first seen leading a term; may queue reactions. */
  onNewLeader: ((id: NodeId, term: number) => void) | undefined;
  /** Outside actions that must happen before the next step (e.g. striking a new leader). */
  readonly reactions: (() => void)[] = [];
  /** Scenario hook: messages it returns true for are lost at delivery (as through a partition). */
  dropIf: ((msg: Message) => boolean) | undefined;
  private readonly roles = new Map<NodeId, { term: number; role: Role }>();
  private readonly maxStepsPerTick: number;
  private nextProposal = 0;
  private nextRead = 0;

  constructor(readonly options: ClusterOptions) {
    this.rng = seededRng(options.seed);
    this.trace = new EventTrace(options.traceCapacity ?? 60);
    this.network = new SimNetwork(this.rng);
    this.tunables = options.tunables;
    this.snapshotPolicy = options.snapshotPolicy;
    this.maxStepsPerTick = options.maxStepsPerTick ?? 5000;
    this.checker = new InvariantChecker(() => this.currentLeaders());
    const snapshot = bootstrapSnapshot(options.voters, encodeImage({ index: 1, chain: BOOTSTRAP_CHAIN }));
    for (const id of options.voters) {
      const node = new SimNode(id, this);
      node.disk.initialize(snapshot, BOOTSTRAP_CHAIN, { term: 1, vote: '', commit: 1 });
      this.nodes.set(id, node);
      node.start();
    }
  }

  // ---- NodeEnv -----------------------------------------------------------------------------

  coreRng(id: NodeId, incarnation: number): Rng {
    let h = this.options.seed ^ 0x5bd1e995;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    return seededRng((h ^ Math.imul(incarnation, 0x9e3779b1)) >>> 0);
  }

  send(from: SimNode, messages: readonly Message[]): void {
    for (const msg of messages) {
      Object.freeze(msg);
      Object.freeze(msg.entries);
      if (!this.network.send(msg, from.id, from.incarnation, this.now) && msg.snapshot !== undefined) {
        // A snapshot stream that fails is always noticed by the sending transport.
        this.network.report('snapshotFailed', from.id, msg.to, from.incarnation, this.now);
      }
    }
  }

  onConfChangeApplied(node: SimNode, cc: ConfChange, index: number): void {
    this.removals.onApplied(node, cc, index);
  }

  private settleRemovals(): void {
    for (const { id, why } of this.removals.ready(this.nodes)) {
      const node = this.nodes.get(id);
      if (node === undefined) continue;
      this.trace.note(`${id} shuts down: ${why}`);
      node.decommissioned = true;
      this.dropNode(node);
    }
  }

  // ---- stepping ----------------------------------------------------------------------------

  /** Do one unit of work, chosen at random among what is possible now. False if nothing is. */
  step(): boolean {
    const busy: SimNode[] = [];
    for (const node of this.nodes.values()) if (!this.isPaused(node.id) && node.hasWork()) busy.push(node);
    const due = this.network.dueCount(this.now, this.isPaused);
    const total = busy.length + due;
    if (total === 0) return false;
    const pick = this.rng.int(total);
    this.steps++;
    this.trace.step = this.steps;
    if (pick < busy.length) {
      const node = busy[pick]!;
      this.guard(() => node.work());
      this.afterStep(node);
    } else {
      this.deliver(this.network.take(this.now, pick - busy.length, this.isPaused));
    }
    return true;
  }

  /** Run one tick: interleave `actions` with whatever work is due, then tick every live node. */
  runTick(actions: readonly (() => void)[] = []): void {
    const pending = [...actions];
    for (let budget = this.maxStepsPerTick; budget > 0; budget--) {
      const reaction = this.reactions.shift();
      if (reaction !== undefined) {
        reaction();
        continue;
      }
      if (pending.length > 0 && this.rng.float() < 0.2) {
        pending.shift()!();
        continue;
      }
      if (this.step()) continue;
      if (pending.length === 0) break;
      pending.shift()!();
    }
    for (const action of pending) action();
    this.tickAll();
  }

  /** Steps (no ticks) until `done` holds or nothing is left to do; returns whether it holds. */
  settleUntil(done: () => boolean, maxSteps = this.maxStepsPerTick): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      if (!this.step()) break;
    }
    return done();
  }

  /** Steps until nothing is left to do in this tick. */
  settle(): void {
    this.settleUntil(() => false);
  }

  runTicks(count: number): void {
    for (let i = 0; i < count; i++) this.runTick();
  }

  /** Run ticks until `done` holds (checked after each tick); false if it never did within maxTicks. */
  runUntil(done: () => boolean, maxTicks: number, actionsPerTick?: () => (() => void)[]): boolean {
    for (let i = 0; i < maxTicks; i++) {
      if (done()) return true;
      this.runTick(actionsPerTick?.() ?? []);
    }
    return done();
  }

  tickAll(): void {
    this.now++;
    this.trace.tick = this.now;
    for (const node of this.nodes.values()) {
      if (!node.up || this.isPaused(node.id)) continue;
      // Clocks drift: now and then a node's tick comes late and it misses one.
      if (this.tickSkipRate > 0 && this.rng.float() < this.tickSkipRate) continue;
      this.guard(() => node.core.tick());
      this.afterStep(node);
    }
  }

  private deliver(parcel: Parcel): void {
    if (parcel.kind === 'message') {
      this.deliverMessage(parcel.msg, parcel.sender, parcel.dup, parcel.senderIncarnation);
      return;
    }
    const node = this.nodes.get(parcel.at);
    if (node === undefined || !node.up || node.incarnation !== parcel.incarnation) return;
    this.trace.note(`${parcel.at} transport: ${parcel.kind} ${parcel.about}`);
    this.guard(() => {
      if (parcel.kind === 'unreachable') node.core.reportUnreachable(parcel.about);
      else node.core.reportSnapshot(parcel.about, parcel.kind === 'snapshotDone');
    });
    this.afterStep(node);
  }

  private deliverMessage(msg: Message, sender: NodeId, dup: boolean, senderIncarnation: number): void {
    const target = this.nodes.get(msg.to);
    const reachable =
      target !== undefined && target.up && this.network.connected(sender, msg.to) && !(this.dropIf?.(msg) ?? false);
    const isSnapshot = msg.snapshot !== undefined;
    if (!reachable) {
      if (isSnapshot) {
        this.network.report('snapshotFailed', sender, msg.to, senderIncarnation, this.now);
      } else if (this.rng.float() < this.network.weather.unreachableRate) {
        this.network.report('unreachable', sender, msg.to, senderIncarnation, this.now);
      }
      return;
    }
    this.trace.record({ kind: 'deliver', msg, sender, dup });
    this.stats.messagesDelivered++;
    this.guard(() => target.core.step(msg));
    this.afterStep(target);
    if (isSnapshot) {
      this.stats.snapshotsSent++;
      this.network.report('snapshotDone', sender, msg.to, senderIncarnation, this.now);
    }
  }

  /** Invariants that need the core's view: roles (election safety, leader completeness). */
  private afterStep(node: SimNode): void {
    if (this.removals.hasPending) this.settleRemovals();
    if (!node.up) return;
    const status = this.guard(() => node.core.status());
    const previous = this.roles.get(node.id);
    this.roles.set(node.id, { term: status.term, role: status.role });
    this.checker.observeRole(node.id, status.term, status.role, node.disk);
    if (status.role === 'leader' && (previous?.role !== 'leader' || previous.term !== status.term)) {
      this.onNewLeader?.(node.id, status.term);
    }
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InvariantViolation) throw err;
      const text = err instanceof Error ? `${err.message}\n${err.stack?.split('\n').slice(1, 6).join('\n')}` : String(err);
      throw new InvariantViolation('core threw', text);
    }
  }

  private currentLeaders(): LeaderView[] {
    const leaders: LeaderView[] = [];
    for (const [id, r] of this.roles) {
      if (r.role === 'leader') leaders.push({ id, term: r.term, disk: this.nodes.get(id)!.disk });
    }
    return leaders;
  }

  // ---- outside actions ---------------------------------------------------------------------

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`simulator: no node ${id}`);
    return node;
  }

  /** The live node that leads the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const [id, r] of this.roles) {
      if (r.role === 'leader' && r.term > bestTerm) {
        best = this.nodes.get(id);
        bestTerm = r.term;
      }
    }
    return best;
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  crash(id: NodeId, tear?: Tear): void {
    const node = this.node(id);
    if (!node.up) return;
    this.trace.note(`crash ${id}${tear !== undefined ? ' (mid-write)' : ''}`);
    this.stats.crashes++;
    if (tear !== undefined) this.stats.tornCrashes++;
    this.guard(() => node.crash(tear, this.rng.float() < 0.5));
    this.dropNode(node);
    this.pausedUntil.delete(id);
    // Every peer's transport sees its stream to the dead process break, sooner or later.
    for (const peer of this.nodes.values()) {
      if (!peer.up || peer === node) continue;
      if (this.rng.float() < this.network.weather.unreachableRate) {
        this.network.report('unreachable', peer.id, id, peer.incarnation, this.now + this.rng.int(3));
      }
    }
  }

  private dropNode(node: SimNode): void {
    if (node.up) node.crash();
    this.roles.delete(node.id);
  }

  /** Freeze a process for `ticks` ticks: no ticks, no Ready handling, its messages wait. */
  pause(id: NodeId, ticks: number): void {
    this.pausedUntil.set(id, this.now + ticks);
    this.trace.note(`pause ${id} for ${ticks} ticks`);
  }

  resumeAll(): void {
    this.pausedUntil.clear();
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.up || node.decommissioned) return;
    this.trace.note(`restart ${id} from disk: snapshot ${node.disk.snapshotIndex()}, last ${node.disk.lastIndex()}, ` +
      `hs T${node.disk.hardState.term}/${node.disk.hardState.vote || '-'}/c${node.disk.hardState.commit}`);
    this.stats.restarts++;
    this.guard(() => node.start());
    this.afterStep(node);
  }

  /** A brand-new, empty process that will join as a learner. */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`simulator: ${id} exists`);
    const node = new SimNode(id, this);
    this.nodes.set(id, node);
    this.trace.note(`new process ${id}`);
    this.guard(() => node.start());
    this.afterStep(node);
    return node;
  }

  /** A client write to `id`. Checks the proposal contract: only a leader accepts. */
  propose(id: NodeId, text = `w${this.nextProposal++}`): ProposeResult {
    const node = this.node(id);
    const role = this.guard(() => node.core.status().role);
    const result = this.guard(() => node.core.propose(textBytes(text)));
    this.trace.note(`propose ${JSON.stringify(text)} at ${id}: ${result.ok ? `ok ${result.index}/${result.term}` : result.code}`);
    this.checkProposeContract(id, role, result);
    if (result.ok) {
      this.stats.proposalsAccepted++;
      this.checker.observeProposal(result.index, result.term, text);
    } else {
      this.stats.proposalsRefused++;
    }
    this.afterStep(node);
    return result;
  }

  proposeConfChange(id: NodeId, cc: ConfChange): ProposeResult {
    const node = this.node(id);
    const role = this.guard(() => node.core.status().role);
    const result = this.guard(() => node.core.proposeConfChange(cc));
    this.trace.note(`propose ${cc.type} ${cc.nodeId} at ${id}: ${result.ok ? `ok ${result.index}/${result.term}` : result.code}`);
    this.checkProposeContract(id, role, result);
    this.afterStep(node);
    return result;
  }

  private checkProposeContract(id: NodeId, role: Role, result: ProposeResult): void {
    if (role !== 'leader' && (result.ok || result.code !== 'RAFT_NOT_LEADER')) {
      throw new InvariantViolation('proposal contract', `${id} is a ${role} but answered ${result.ok ? 'ok' : result.code}`);
    }
    if (role === 'leader' && !result.ok && result.code === 'RAFT_NOT_LEADER') {
      throw new InvariantViolation('proposal contract', `${id} is the leader but answered RAFT_NOT_LEADER`);
    }
  }

  /** A linearizable read at `id`; returns its context (see SimNode.readsServed). */
  readIndex(id: NodeId): string {
    const node = this.node(id);
    const context = `r${this.nextRead++}`;
    this.trace.note(`readIndex ${context} at ${id} (applied anywhere: ${this.checker.maxApplied})`);
    this.checker.readRequested(id, context);
    this.stats.reads++;
    this.guard(() => node.core.readIndex(textBytes(context)));
    this.afterStep(node);
    return context;
  }

  campaign(id: NodeId): void {
    const node = this.node(id);
    this.trace.note(`campaign ${id}`);
    this.guard(() => node.core.campaign());
    this.afterStep(node);
  }

  transferLeader(from: NodeId, to: NodeId): void {
    const node = this.node(from);
    this.trace.note(`transferLeader ${from} -> ${to}`);
    this.guard(() => node.core.transferLeader(to));
    this.afterStep(node);
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.network.partition(groups);
    this.trace.note(`partition ${this.network.describePartition()}`);
  }

  heal(): void {
    this.network.heal();
    this.trace.note('heal partition');
  }

  /** Force a node's driver to snapshot now (scenario tests). */
  snapshotNow(id: NodeId, keep = 0): void {
    const node = this.node(id);
    this.guard(() => node.takeSnapshot(keep));
  }
}
