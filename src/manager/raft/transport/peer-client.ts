import { Client, type ChannelCredentials, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { Message, NodeId } from '../types.js';
import { entryBytes, messageToWire } from './codec.js';
import type { RaftProto } from './load-proto.js';
import { REMOVED_DETAILS, REMOVED_STATUS } from './raft-service.js';
import type { TransportTuning } from './tuning.js';
import type { WireMessage, WireMessageBatch, WireSnapshotAck, WireSnapshotChunk, WireStreamAck } from './wire-types.js';

export interface PeerClientOptions {
  readonly selfId: NodeId;
  readonly peerId: NodeId;
  readonly addr: string;
  readonly credentials: ChannelCredentials;
  readonly proto: RaftProto;
  readonly tuning: TransportTuning;
  readonly logger: Logger;
  /** Called at once when the stream to the peer breaks or a send had to be dropped. */
  readonly onUnreachable: (peer: NodeId, reason: string) => void;
  /** The peer turned this node away because it was removed from the cluster. */
  readonly onRemoved: (peer: NodeId) => void;
}

/**
 * The sending side of one peer: one long-lived client stream that carries batches of Raft
 * messages, plus one call per snapshot. Raft tolerates lost messages, so nothing is queued
 * while the peer is down: a send that cannot go out is dropped and reported, and the stream is
 * reopened after a backoff (doubling up to tuning.maxBackoffMs).
 */
export class PeerClient {
  private readonly client: Client;
  private stream: ClientWritableStream<WireMessageBatch> | undefined;
  private retryAt = 0;
  private backoffMs: number;
  private closed = false;

  constructor(private readonly opts: PeerClientOptions) {
    this.backoffMs = opts.tuning.initialBackoffMs;
    this.client = new Client(opts.addr, opts.credentials, {
      // Each peer gets its own connection (also when several nodes share a process in tests),
      // so one peer's failure never tears down another's stream.
      'grpc.use_local_subchannel_pool': 1,
      // grpc-js waits a full second before its first reconnect by default; a restarted manager
      // should rejoin faster than an election timeout.
      'grpc.initial_reconnect_backoff_ms': opts.tuning.initialBackoffMs,
      'grpc.max_reconnect_backoff_ms': opts.tuning.maxBackoffMs,
      'grpc.max_receive_message_length': opts.tuning.maxMessageBytes,
      'grpc.max_send_message_length': opts.tuning.maxMessageBytes,
    });
  }

  get addr(): string {
    return this.opts.addr;
  }

  /** Sends all of `messages` (none of them Snap) in as few writes as the size limit allows. */
  send(messages: readonly Message[]): void {
    if (this.closed || messages.length === 0) return;
    const stream = this.ensureStream();
    if (stream === undefined) {
      this.opts.onUnreachable(this.opts.peerId, 'stream is down, reconnecting');
      return;
    }
    // writableLength counts batches not yet handed to HTTP/2: a peer that cannot keep up
    // loses messages (Raft resends) rather than growing this process without bound.
    if (stream.writableLength > this.opts.tuning.maxQueuedBatches) {
      this.opts.onUnreachable(this.opts.peerId, 'peer is not draining its stream');
      return;
    }
    let batch: WireMessage[] = [];
    let bytes = 0;
    for (const m of messages) {
      const size = entryBytes(m);
      if (batch.length > 0 && bytes + size > this.opts.tuning.maxBatchBytes) {
        stream.write({ from: this.opts.selfId, messages: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(messageToWire(m));
      bytes += size;
    }
    stream.write({ from: this.opts.selfId, messages: batch }, () => {
      this.backoffMs = this.opts.tuning.initialBackoffMs;
    });
  }

  /**
   * Sends a Snap message with its data in chunks on its own call. Resolves once the peer has
   * stepped it; rejects with TRANSPORT_SNAPSHOT_FAILED otherwise.
   */
  async sendSnapshot(m: Message): Promise<void> {
    const snap = m.snapshot;
    if (snap === undefined) throw new TsswarmError('INTERNAL', { detail: 'Snap message without a snapshot' });
    const def = this.opts.proto.raftService.SendSnapshot;
    if (def === undefined) throw new TsswarmError('INTERNAL', { detail: 'SendSnapshot missing from raft.proto' });
    const deadline = new Date(Date.now() + this.opts.tuning.snapshotTimeoutMs);
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string): void =>
        reject(new TsswarmError('TRANSPORT_SNAPSHOT_FAILED', { nodeId: this.opts.peerId, reason }));
      const call = this.client.makeClientStreamRequest<WireSnapshotChunk, WireSnapshotAck>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        { deadline },
        (err: ServiceError | null, ack?: WireSnapshotAck) => {
          if (err !== null) fail(err.details || err.message);
          else if (ack === undefined || !ack.ok) fail(ack?.error ?? 'no reply');
          else resolve();
        },
      );
      const data = snap.data;
      const chunk = this.opts.tuning.snapshotChunkBytes;
      const header = { ...messageToWire(m), entries: [] };
      const writeFrom = (offset: number): void => {
        while (offset < data.length || offset === 0) {
          const end = Math.min(offset + chunk, data.length);
          const ok = call.write({
            message: offset === 0 ? header : null,
            totalSize: data.length,
            offset,
            data: data.subarray(offset, end),
          });
          offset = end;
          if (offset >= data.length) break;
          if (!ok) {
            call.once('drain', () => writeFrom(offset));
            return;
          }
        }
        call.end();
      };
      writeFrom(0);
    });
  }

  close(): void {
    this.closed = true;
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.client.close();
  }

  private ensureStream(): ClientWritableStream<WireMessageBatch> | undefined {
    if (this.stream !== undefined) return this.stream;
    if (Date.now() < this.retryAt) return undefined;
    const def = this.opts.proto.raftService.Stream;
    if (def === undefined) throw new TsswarmError('INTERNAL', { detail: 'Stream missing from raft.proto' });
    const call = this.client.makeClientStreamRequest<WireMessageBatch, WireStreamAck>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      (err: ServiceError | null) => this.onStreamEnd(call, err),
    );
    // Errors arrive through the callback as well; this listener only keeps an 'error' event
    // from being thrown as unhandled.
    call.on('error', () => undefined);
    this.stream = call;
    return call;
  }

  private onStreamEnd(call: ClientWritableStream<WireMessageBatch>, err: ServiceError | null): void {
    if (this.stream !== call) return;
    this.stream = undefined;
    if (this.closed) return;
    if (err !== null && err.code === REMOVED_STATUS && err.details === REMOVED_DETAILS) {
      this.opts.onRemoved(this.opts.peerId);
      return;
    }
    const reason = err === null ? 'peer closed the stream' : err.details || errorMessage(err);
    this.retryAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.tuning.maxBackoffMs);
    this.opts.logger.debug({ peer: this.opts.peerId, addr: this.opts.addr, reason }, 'raft stream to peer broke');
    this.opts.onUnreachable(this.opts.peerId, reason);
  }
}
