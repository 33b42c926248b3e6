import { z } from 'zod';
import { parseConfig } from '../config/parse-config.js';
import { existsSync, readFileSync } from 'node:fs';
import type { DesiredState, RemoteEndpoint } from '../dataplane/model.js';
import { errorMessage } from '../errors/index.js';
import { GOSSIP_TABLES, type GossipListener, type GossipNode } from '../gossip/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { LocalDesired, LocalEndpoint } from '../worker/sandbox/dataplane-sandboxes.js';
import { writeFileAtomic } from './atomic-file.js';
import type { LocalNetworkView } from './local-network-view.js';
import {
  RemoteEndpointTable,
  composeDesired,
  gossipSteps,
  networkView,
  publication,
  serviceEndpoints,
  withCarried,
  type Publication,
} from './node-networks-state.js';

export const nodeNetworksConfigSchema = z.object({
  /**
   * ms a change of remote endpoints waits before the dataplane reconciles it, so a burst (a
   * bulk sync, a node's death withdrawing all its entries, a service scaled by 50) costs one
   * reconcile: 50 ms is far below what a peer's table takes to spread (gossip rounds of
   * 200 ms) and above the time one burst of events takes to arrive.
   */
  refreshDebounceMs: z.number().int().min(0).max(10_000).default(50),
  /**
   * ms a network's remote endpoints programmed before a restart are kept once gossip shows a
   * live peer in that network (so the restart cuts no connection): by then the peer's bulk
   * sync, one TCP round trip, has brought the live entries; 3 s leaves room for retries.
   */
  carrySettleMs: z.number().int().min(0).max(600_000).default(3_000),
  /**
   * ms after gossip appears when the carried endpoints go even without any peer in sight: a
   * restarted sole manager has no seed and waits for the others to retry it (every 10 s at
   * the LAN profile); after a minute the old entries are more likely stale than useful.
   */
  carryMaxMs: z.number().int().min(0).max(3_600_000).default(60_000),
  /** ms between two looks at whether the carried endpoints may go. */
  carryCheckMs: z.number().int().min(10).max(60_000).default(500),
});
export type NodeNetworksConfig = z.output<typeof nodeNetworksConfigSchema>;

/** What the node networks need of the task sandboxes (DataplaneSandboxes). */
export interface NodeSandboxes {
  localEndpoints(): LocalEndpoint[];
  onChange(listener: () => void): () => void;
  refresh(): Promise<unknown>;
}

export interface NodeNetworksOptions {
  readonly nodeId: string;
  /** This node's data-path address: the VTEP its endpoints are reached at. */
  readonly vtep: string;
  readonly sandboxes: NodeSandboxes;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** NodeNetworksConfig input (validated; CONFIG_INVALID names every bad field). */
  readonly config?: unknown;
  /**
   * Where the remote endpoints last programmed are kept for the next daemon (beside the
   * namespaces, in the exec root: both are gone after a reboot). None: nothing carried over.
   */
  readonly carryFile?: string;
}

const carriedSchema = z.array(z.object({ network: z.string().min(1), ip: z.string().min(7), mac: z.string().min(11), vtep: z.string().min(7) }));

function loadCarried(file: string | undefined, log: Logger): RemoteEndpoint[] {
  if (file === undefined || !existsSync(file)) return [];
  try {
    return carriedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    log.warn({ file, err: errorMessage(err) }, 'remote endpoints of the previous daemon unreadable; gossip rebuilds them');
    return [];
  }
}

/**
 * The glue between the task sandboxes and gossip (Docker's networkdb as libnetwork's overlay
 * driver uses it): the node is in gossip network N while it has a desired endpoint on N,
 * with one endpoint-table entry per local endpoint (key: task ID); the other nodes' entries
 * become the dataplane's remote endpoints, reconciled by a debounced `refresh()`. Gossip may
 * come later than the tasks and may be replaced: `attach()` each GossipNode as it appears and
 * the desired networks and entries are applied to it. Decisions are in node-networks-state.ts.
 */
export class NodeNetworks {
  private node: GossipNode | undefined;
  private offNode: (() => void) | undefined;
  private readonly offSandboxes: () => void;
  /** What the attached GossipNode holds of ours. */
  private applied: Publication = new Map();
  private readonly remotes: RemoteEndpointTable;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly cfg: NodeNetworksConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** The previous daemon's remote endpoints, kept until gossip has had time to catch up. */
  private carried: RemoteEndpoint[];
  private carryTimer: TimerHandle | undefined;
  private attachedAt: number | undefined;
  /** Since when gossip has shown a live peer in each network that still has carried entries. */
  private readonly peerSince = new Map<string, number>();
  private lastSaved = '';
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: NodeNetworksOptions) {
    this.cfg = parseConfig('node networks', nodeNetworksConfigSchema, opts.config);
    this.clock = opts.clock ?? systemClock;
    this.log = componentLogger(opts.logger, 'node-networks');
    this.remotes = new RemoteEndpointTable(opts.nodeId);
    this.carried = loadCarried(opts.carryFile, this.log);
    this.offSandboxes = opts.sandboxes.onChange(() => this.sync());
  }

  /** The remote endpoints to program now: the live ones, and the carried ones while they last. */
  private currentRemotes(): RemoteEndpoint[] {
    const live = this.remotes.remotes();
    return this.carried.length === 0 ? live : withCarried(live, this.carried);
  }

  /** The dataplane's compose hook: the local sandboxes and networks plus the remote endpoints. */
  readonly compose = (local: LocalDesired): DesiredState => {
    const desired = composeDesired(local, this.currentRemotes(), serviceEndpoints(this.opts.sandboxes.localEndpoints(), this.remotes.endpoints()));
    this.save(desired.remotes);
    return desired;
  };

  /** Keeps what is about to be programmed for the next daemon (only when it changed). */
  private save(remotes: readonly RemoteEndpoint[]): void {
    const file = this.opts.carryFile;
    if (file === undefined) return;
    const text = JSON.stringify(remotes);
    if (text === this.lastSaved) return;
    this.lastSaved = text;
    // One write at a time (they share a temporary file), in the order of the reconciles.
    this.saving = this.saving
      .then(() => writeFileAtomic(file, text))
      .catch((err: unknown) => this.log.warn({ file, err: errorMessage(err) }, 'remote endpoints not saved'));
  }

  /**
   * The GossipNode to work through (undefined when gossip stopped). A new node has joined
   * nothing: the desired networks and entries are applied to it, and the remote endpoints are
   * rebuilt from what it shows. Without a node the kernel keeps the last remote endpoints.
   */
  attach(node: GossipNode | undefined): void {
    if (this.closed || node === this.node) return;
    this.offNode?.();
    this.offNode = undefined;
    this.node = node;
    this.applied = new Map();
    if (node === undefined) return;
    const listener: GossipListener = (e) => {
      if (e.kind === 'table' && e.table === GOSSIP_TABLES.endpoints) this.onTableChange(e);
      // An owner's death or return changes which entries are visible. The table events of
      // that are not relied on alone: the visible entries are read again (see resync()).
      if (e.kind === 'member') this.resync();
    };
    this.offNode = node.subscribe(listener);
    this.attachedAt ??= this.clock.now();
    this.armCarryCheck();
    this.sync();
    // A new node knows no entries yet: the kernel keeps the remote endpoints it has (e.g. from
    // before a daemon restart) until the first table events (the bulk sync) refresh them.
    this.resync(false);
  }

  private armCarryCheck(): void {
    if (this.closed || this.carried.length === 0 || this.carryTimer !== undefined) return;
    this.carryTimer = this.clock.setTimeout(() => {
      this.carryTimer = undefined;
      this.checkCarried();
      this.armCarryCheck();
    }, this.cfg.carryCheckMs);
  }

  /** Drops a network's carried endpoints once a live peer there had time to sync, or at the latest after carryMaxMs. */
  private checkCarried(): void {
    const node = this.node;
    if (node === undefined || this.attachedAt === undefined) return;
    const now = this.clock.now();
    const drop = new Set<string>();
    for (const network of new Set(this.carried.map((r) => r.network))) {
      const peers = node.networks().includes(network) ? node.networkMembers(network).filter((m) => m.id !== this.opts.nodeId) : [];
      if (peers.length === 0) this.peerSince.delete(network);
      else if (!this.peerSince.has(network)) this.peerSince.set(network, now);
      const since = this.peerSince.get(network);
      if ((since !== undefined && now - since >= this.cfg.carrySettleMs) || now - this.attachedAt >= this.cfg.carryMaxMs) drop.add(network);
    }
    if (drop.size === 0) return;
    this.carried = this.carried.filter((r) => !drop.has(r.network));
    for (const network of drop) this.peerSince.delete(network);
    this.log.info({ networks: [...drop] }, 'remote endpoints of the previous daemon replaced by what gossip knows');
    this.scheduleRefresh();
  }

  /** This node's gossip view of a network; undefined without gossip or when not in it. */
  networkView(networkId: string): LocalNetworkView | undefined {
    const node = this.node;
    if (node === undefined || !node.networks().includes(networkId)) return undefined;
    return networkView(this.opts.nodeId, node.networkMembers(networkId), node.table(networkId, GOSSIP_TABLES.endpoints).entries());
  }

  /** Stops following gossip and the sandboxes; what gossip holds goes with the node's gossip. */
  close(): void {
    this.closed = true;
    if (this.carryTimer !== undefined) this.clock.clearTimeout(this.carryTimer);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.offNode?.();
    this.offNode = undefined;
    this.offSandboxes();
    this.node = undefined;
  }

  private onTableChange(c: { action: 'create' | 'update' | 'delete'; network: string; key: string; owner: string; value: Uint8Array }): void {
    const r = this.remotes.apply(c);
    if (r.invalid !== undefined) this.log.warn({ network: c.network, key: c.key, owner: c.owner, problem: r.invalid }, 'endpoint entry ignored');
    if (r.changed) this.scheduleRefresh();
  }

  /**
   * Rebuilds the remote endpoints from the visible entries of every network this node is in
   * (oldest first, so the newest announcement of an address wins), and refreshes the
   * dataplane when that changed them. Run on member changes: GossipCore currently emits no
   * table events when an owner dies or returns (its reevaluateOwner runs after the member's
   * state already changed), although entries() does hide a dead owner's entries.
   */
  private resync(refresh = true): void {
    const node = this.node;
    if (this.closed || node === undefined) return;
    const before = JSON.stringify(this.remotes.remotes());
    this.remotes.clear();
    for (const network of node.networks()) {
      const entries = [...node.table(network, GOSSIP_TABLES.endpoints).entries()].sort((a, b) => a.lamport - b.lamport);
      for (const e of entries) this.remotes.apply({ action: 'create', network, key: e.key, owner: e.owner, value: e.value });
    }
    if (refresh && JSON.stringify(this.remotes.remotes()) !== before) this.scheduleRefresh();
  }

  /** Brings the attached GossipNode to the local endpoints' networks and entries. */
  private sync(): void {
    const node = this.node;
    if (this.closed || node === undefined) return;
    const desired = publication(this.opts.sandboxes.localEndpoints(), { nodeId: this.opts.nodeId, vtep: this.opts.vtep });
    const steps = gossipSteps(desired, this.applied);
    const applied = new Map([...this.applied].map(([n, m]) => [n, new Map(m)]));
    try {
      for (const network of steps.join) {
        node.joinNetwork(network);
        applied.set(network, new Map());
        this.log.info({ network }, 'joined the network in gossip');
      }
      for (const p of steps.put) {
        node.table(p.network, GOSSIP_TABLES.endpoints).put(p.key, new TextEncoder().encode(p.value));
        applied.get(p.network)?.set(p.key, p.value);
      }
      for (const d of steps.delete) {
        node.table(d.network, GOSSIP_TABLES.endpoints).delete(d.key);
        applied.get(d.network)?.delete(d.key);
      }
      for (const network of steps.leave) {
        node.leaveNetwork(network);
        applied.delete(network);
        this.log.info({ network }, 'left the network in gossip');
      }
    } catch (err) {
      // A node that stopped under us: the next attach() applies everything again.
      this.log.warn({ err: errorMessage(err) }, 'gossip did not take the node networks');
    }
    this.applied = applied;
  }

  private scheduleRefresh(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.opts.sandboxes.refresh().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'dataplane refresh failed'));
    }, this.cfg.refreshDebounceMs);
  }
}
