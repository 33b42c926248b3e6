import {
  Server,
  type ChannelCredentials,
  type ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import { MessageType, type Message, type NodeId } from '../types.js';
import { loadRaftProto, type RaftProto } from './load-proto.js';
import { PeerClient } from './peer-client.js';
import { ProposeForwarder } from './propose-forwarder.js';
import { raftServiceImplementation, type RaftServiceHandler } from './raft-service.js';
import { defaultTransportTuning, type TransportTuning } from './tuning.js';

/** The driver's side of the transport: incoming traffic plus delivery reports. */
export interface TransportHandler extends RaftServiceHandler {
  /** A peer could not be reached (stream broke, or a send was dropped): core.reportUnreachable. */
  onUnreachable(peer: NodeId, reason: string): void;
  /** A snapshot send finished: core.reportSnapshot(peer, ok). */
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
  /** A member told this node that it was removed from the cluster. */
  onRemoved(by: NodeId): void;
}

export interface RaftTransportOptions {
  readonly id: NodeId;
  /** host:port to listen on, e.g. 10.0.0.1:2377; port 0 picks a free port (tests). */
  readonly listen: string;
  readonly serverCredentials: ServerCredentials;
  readonly channelCredentials: ChannelCredentials;
  readonly handler: TransportHandler;
  readonly logger: Logger;
  readonly tuning?: Partial<TransportTuning>;
  /** Further services on the same port (e.g. the standalone member's probe). */
  readonly extraServices?: ReadonlyArray<{ definition: ServiceDefinition; implementation: UntypedServiceImplementation }>;
}

/**
 * Raft's network: a gRPC server for what peers send here, and one PeerClient per peer for
 * what goes out. send() takes all messages of one Ready and writes each peer's share as one
 * batch; Snap messages go on their own chunked call and report back through the handler.
 */
export class RaftTransport {
  private readonly peers = new Map<NodeId, PeerClient>();
  private readonly tuning: TransportTuning;
  private readonly proto: RaftProto;
  private stopped = false;
  private forwarder: ProposeForwarder | undefined;

  private constructor(
    private readonly opts: RaftTransportOptions,
    private readonly server: Server,
    /** The address actually bound (port resolved when 0 was asked for). */
    readonly address: string,
  ) {
    this.tuning = { ...defaultTransportTuning, ...opts.tuning };
    this.proto = loadRaftProto();
  }

  /** Binds the server and starts serving. Rejects with TRANSPORT_UNREACHABLE if it cannot bind. */
  static async start(opts: RaftTransportOptions): Promise<RaftTransport> {
    const proto = loadRaftProto();
    const tuning = { ...defaultTransportTuning, ...opts.tuning };
    const server = new Server({
      'grpc.max_receive_message_length': tuning.maxMessageBytes,
      'grpc.max_send_message_length': tuning.maxMessageBytes,
    });
    server.addService(proto.raftService, raftServiceImplementation(opts.handler, opts.logger));
    for (const s of opts.extraServices ?? []) server.addService(s.definition, s.implementation);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(opts.listen, opts.serverCredentials, (err, p) => {
        if (err !== null) {
          reject(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: opts.id, addr: opts.listen, reason: `cannot listen: ${errorMessage(err)}` }, { cause: err }));
        } else resolve(p);
      });
    });
    const host = opts.listen.slice(0, opts.listen.lastIndexOf(':'));
    return new RaftTransport(opts, server, `${host}:${port}`);
  }

  /** Adds or re-addresses a peer. Idempotent. */
  setPeer(id: NodeId, addr: string): void {
    if (id === this.opts.id || this.stopped) return;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      if (existing.addr === addr) return;
      existing.close();
    }
    this.peers.set(
      id,
      new PeerClient({
        selfId: this.opts.id,
        peerId: id,
        addr,
        credentials: this.opts.channelCredentials,
        proto: this.proto,
        tuning: this.tuning,
        logger: this.opts.logger,
        onUnreachable: (peer, reason) => this.opts.handler.onUnreachable(peer, reason),
        onRemoved: (peer) => this.opts.handler.onRemoved(peer),
      }),
    );
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  peerAddress(id: NodeId): string | undefined {
    return id === this.opts.id ? this.address : this.peers.get(id)?.addr;
  }

  /** Sends the messages of one Ready: one write per peer; never blocks, never throws. */
  send(messages: readonly Message[]): void {
    if (this.stopped || messages.length === 0) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (m.type === MessageType.Snap) {
        this.sendSnapshot(m);
        continue;
      }
      let list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, (list = []));
      list.push(m);
    }
    for (const [to, list] of byPeer) {
      const peer = this.peers.get(to);
      if (peer === undefined) {
        this.opts.handler.onUnreachable(to, 'no address known for this member');
        continue;
      }
      peer.send(list);
    }
  }

  private sendSnapshot(m: Message): void {
    const peer = this.peers.get(m.to);
    if (peer === undefined) {
      this.opts.handler.onSnapshotStatus(m.to, false);
      return;
    }
    peer.sendSnapshot(m).then(
      () => this.opts.handler.onSnapshotStatus(m.to, true),
      (err: unknown) => {
        this.opts.logger.warn({ peer: m.to, err: errorMessage(err) }, 'snapshot send failed');
        this.opts.handler.onSnapshotStatus(m.to, false);
      },
    );
  }

  /**
   * Forwards a write to the leader's Propose stream (a follower's path for writes). Resolves
   * once the leader applied it; rejects with the leader's error code, or TRANSPORT_UNREACHABLE
   * if the stream broke (outcome unknown).
   */
  forwardPropose(leaderAddr: string, data: Uint8Array, timeoutMs: number): Promise<{ index: number; term: number }> {
    if (this.stopped) return Promise.reject(new TsswarmError('RAFT_STOPPED', {}));
    this.forwarder ??= new ProposeForwarder(this.proto, this.opts.channelCredentials);
    return this.forwarder.forward(leaderAddr, data, timeoutMs);
  }

  /** Closes every connection, in and out. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    this.forwarder?.close();
    await new Promise<void>((resolve) => {
      // Give in-flight calls a moment to finish (e.g. a Propose reply), then cut the rest.
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 200);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
