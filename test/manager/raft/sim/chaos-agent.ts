import type { NodeId } from '../../../../src/manager/raft/types.js';
import type { Rng } from '../../../../src/util/rng.js';
import type { SimCluster } from './sim-cluster.js';
import { CALM, type Weather } from './sim-network.js';
import type { ChaosRates } from './seed-profile.js';
import { MembershipOperator } from './membership-operator.js';

function pick<T>(rng: Rng, options: readonly T[]): T | undefined {
  return options.length === 0 ? undefined : options[rng.int(options.length)];
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Decides, tick by tick, what the outside world does to the cluster: client writes and reads,
 * crashes (some in the middle of a write) and restarts, partitions, bad network weather,
 * leadership transfers and membership changes. Targets are chosen when an action runs, so
 * they fit the cluster's state at that moment.
 */
export class ChaosAgent {
  readonly operator: MembershipOperator;

  constructor(
    private readonly cluster: SimCluster,
    private readonly rates: ChaosRates,
    operator: MembershipOperator,
  ) {
    this.operator = operator;
    cluster.tickSkipRate = rates.tickSkip;
    cluster.onNewLeader = (id) => {
      if (this.rates.strikeNewLeader > 0 && this.rng.float() < this.rates.strikeNewLeader) {
        cluster.reactions.push(() => this.strike(id));
      }
    };
  }

  /** Ends the rule of a leader that was just elected, before it can replicate anything. */
  private strike(id: NodeId): void {
    const node = this.cluster.nodes.get(id);
    if (node === undefined || !node.up) return;
    const how = this.rng.int(3);
    if (how === 0) this.cluster.partition([[id]]);
    else if (how === 1) this.cluster.crash(id);
    else this.cluster.crash(id, (records) => this.rng.int(records + 1));
  }

  /** Stops reacting to elections (the healed phase must be left alone). */
  detach(): void {
    this.cluster.onNewLeader = undefined;
  }

  private get rng(): Rng {
    return this.cluster.rng;
  }

  /** The actions for the next tick. */
  actions(): (() => void)[] {
    const r = this.rates;
    const rng = this.rng;
    const actions: (() => void)[] = [];
    const chance = (p: number): boolean => rng.float() < p;
    if (chance(r.propose)) actions.push(() => this.write());
    if (chance(r.propose / 2)) actions.push(() => this.write());
    if (chance(r.read)) actions.push(() => this.read());
    if (chance(r.crash)) actions.push(() => this.crash());
    if (chance(r.restart)) actions.push(() => this.restart());
    if (chance(r.partition)) actions.push(() => this.partition());
    if (chance(r.heal)) actions.push(() => this.cluster.heal());
    if (chance(r.weather)) actions.push(() => this.changeWeather());
    if (chance(r.transfer)) actions.push(() => this.transfer());
    if (chance(r.membership)) actions.push(() => this.operator.act(this.cluster));
    if (chance(r.pause)) actions.push(() => this.pause());
    return shuffled(rng, actions);
  }

  private write(): void {
    const leader = this.cluster.leader();
    const target = leader !== undefined && this.rng.float() < 0.8 ? leader : pick(this.rng, this.cluster.upNodes());
    if (target !== undefined) this.cluster.propose(target.id);
  }

  private read(): void {
    const target = pick(this.rng, this.cluster.upNodes());
    if (target !== undefined) this.cluster.readIndex(target.id);
  }

  private crash(): void {
    const leader = this.cluster.leader();
    const target = leader !== undefined && this.rng.float() < 0.4 ? leader : pick(this.rng, this.cluster.upNodes());
    if (target === undefined) return;
    const torn = this.rng.float() < this.rates.torn;
    this.cluster.crash(target.id, torn ? (records) => this.rng.int(records + 1) : undefined);
  }

  private restart(): void {
    const down = [...this.cluster.nodes.values()].filter((n) => !n.up && !n.decommissioned);
    const target = pick(this.rng, down);
    if (target !== undefined) this.cluster.restart(target.id);
  }

  private partition(): void {
    const ids = [...this.cluster.nodes.keys()];
    const leader = this.cluster.leader();
    const style = this.rng.int(4);
    if (style === 0 && leader !== undefined) {
      this.cluster.partition([[leader.id]]);
      return;
    }
    if (style === 3) {
      // Asymmetric: a few one-way links fail.
      const cuts = 1 + this.rng.int(ids.length);
      for (let i = 0; i < cuts; i++) {
        const from = pick(this.rng, ids)!;
        const to = pick(this.rng, ids)!;
        if (from !== to) this.cluster.network.cut(from, to);
      }
      this.cluster.trace.note(`partition ${this.cluster.network.describePartition()}`);
      return;
    }
    const groups: NodeId[][] = style === 1 ? [[], []] : [[], [], []];
    for (const id of ids) groups[this.rng.int(groups.length)]!.push(id);
    this.cluster.partition(groups.filter((g) => g.length > 0));
  }

  private pause(): void {
    const leader = this.cluster.leader();
    const target = leader !== undefined && this.rng.float() < 0.5 ? leader : pick(this.rng, this.cluster.upNodes());
    // Long enough, sometimes, for the others to elect a new leader meanwhile.
    if (target !== undefined) this.cluster.pause(target.id, 1 + this.rng.int(40));
  }

  private changeWeather(): void {
    const rng = this.rng;
    const weather: Weather =
      rng.float() < 0.3
        ? CALM
        : {
            dropRate: rng.float() < 0.5 ? 0 : 0.3 * rng.float(),
            dupRate: rng.float() < 0.5 ? 0 : 0.2 * rng.float(),
            delayRate: rng.float() < 0.4 ? 0 : 0.5 * rng.float(),
            maxDelay: 1 + rng.int(rng.float() < 0.8 ? 4 : 30),
            reorder: rng.float() < 0.5,
            unreachableRate: rng.float(),
          };
    this.cluster.network.weather = weather;
    this.cluster.trace.note(
      `weather drop=${weather.dropRate.toFixed(2)} dup=${weather.dupRate.toFixed(2)} delay=${weather.delayRate.toFixed(2)}x${weather.maxDelay} reorder=${weather.reorder}`,
    );
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const voters = leader.core.status().confState.voters.filter((id) => id !== leader.id);
    const to = pick(this.rng, voters);
    if (to !== undefined) this.cluster.transferLeader(leader.id, to);
  }
}
