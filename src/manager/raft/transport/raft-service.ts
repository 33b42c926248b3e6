import {
  status as grpcStatus,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { errorMessage, isTsswarmError } from '../../../errors/index.js';
import type { Logger } from '../../../log/logger.js';
import type { Message, NodeId } from '../types.js';
import { messageFromWire } from './codec.js';
import type {
  WireMessageBatch,
  WireProposalResult,
  WireProposeRequest,
  WireProposeResponse,
  WireSnapshotAck,
  WireSnapshotChunk,
  WireStatusRequest,
  WireStatusResponse,
  WireStreamAck,
} from './wire-types.js';

/** What the server side of the transport hands to its owner (the RaftNode driver). */
export interface RaftServiceHandler {
  /**
   * A batch of messages from one peer, in the order the peer sent them. Returns false when
   * the sender was removed from the cluster: its stream is then closed with REMOVED_STATUS so
   * it learns it (a removed member never sees the commit of its own removal otherwise).
   */
  onMessages(from: NodeId, messages: Message[]): boolean;
  /** A reassembled Snap message; resolve once it has been stepped into the core. */
  onSnapshot(message: Message): Promise<void>;
  /** The stream a peer was sending on broke (its process died or its link failed). */
  onPeerStreamBroken(from: NodeId, reason: string): void;
  /** A write; resolves once committed and applied here. Rejections carry a TsswarmError. */
  propose(data: Uint8Array, timeoutMs: number | undefined): Promise<{ index: number; term: number }>;
  status(): WireStatusResponse;
}

/** The gRPC status that tells a sender it is no longer a member (the sole use of this code here). */
export const REMOVED_STATUS = grpcStatus.PERMISSION_DENIED;
export const REMOVED_DETAILS = 'sender was removed from the raft cluster';

/** Largest snapshot accepted, a guard against a corrupt size field: 4 GiB. */
const MAX_SNAPSHOT_BYTES = 4 * 1024 ** 3;

/**
 * The gRPC implementation of service tsswarm.raft.Raft. This is the gRPC edge: errors become
 * catalog codes in Propose results, and gRPC status codes only where the call itself fails.
 */
export function raftServiceImplementation(handler: RaftServiceHandler, logger: Logger): UntypedServiceImplementation {
  return {
    Stream(call: ServerReadableStream<WireMessageBatch, WireStreamAck>, callback: sendUnaryData<WireStreamAck>): void {
      let from: NodeId | undefined;
      let done = false;
      const broken = (reason: string): void => {
        if (done) return;
        done = true;
        if (from !== undefined) handler.onPeerStreamBroken(from, reason);
      };
      call.on('data', (batch: WireMessageBatch) => {
        from = batch.from;
        const msgs: Message[] = new Array<Message>(batch.messages.length);
        for (let i = 0; i < batch.messages.length; i++) msgs[i] = messageFromWire(batch.messages[i]!);
        if (!handler.onMessages(batch.from, msgs) && !done) {
          done = true;
          callback({ code: REMOVED_STATUS, details: REMOVED_DETAILS }, null);
        }
      });
      // A closing peer shows up as 'end' followed by 'cancelled': only the latter (or an
      // error) means the peer is gone, and senders never end their stream otherwise.
      call.on('end', () => {
        if (!done) callback(null, {});
      });
      call.on('error', (err) => broken(errorMessage(err)));
      // 'done' also guards against answering twice after a removed sender was turned away.
      call.on('cancelled', () => broken('stream cancelled (peer closed the connection)'));
    },

    SendSnapshot(call: ServerReadableStream<WireSnapshotChunk, WireSnapshotAck>, callback: sendUnaryData<WireSnapshotAck>): void {
      let header: WireSnapshotChunk['message'] = null;
      let buf: Uint8Array | undefined;
      let received = 0;
      let failed: string | undefined;
      call.on('data', (chunk: WireSnapshotChunk) => {
        if (failed !== undefined) return;
        if (buf === undefined) {
          if (chunk.message === null || chunk.offset !== 0 || chunk.totalSize > MAX_SNAPSHOT_BYTES) {
            failed = 'first snapshot chunk lacks its header';
            return;
          }
          header = chunk.message;
          buf = new Uint8Array(chunk.totalSize);
        }
        if (chunk.offset !== received || received + chunk.data.length > buf.length) {
          failed = `snapshot chunk at offset ${chunk.offset}, expected ${received}`;
          return;
        }
        buf.set(chunk.data, received);
        received += chunk.data.length;
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        if (failed === undefined && (header === null || buf === undefined || received !== buf.length)) {
          failed = `snapshot incomplete: ${received} of ${buf?.length ?? '?'} bytes`;
        }
        if (failed !== undefined || header === null || buf === undefined) {
          logger.warn({ reason: failed }, 'rejected snapshot');
          callback(null, { ok: false, error: failed ?? 'no header' });
          return;
        }
        handler.onSnapshot(messageFromWire(header, buf)).then(
          () => callback(null, { ok: true, error: '' }),
          (err: unknown) => callback(null, { ok: false, error: errorMessage(err) }),
        );
      });
    },

    Propose(call: ServerDuplexStream<WireProposeRequest, WireProposeResponse>): void {
      let pending = 0;
      let clientEnded = false;
      let closed = false;
      let out: WireProposalResult[] = [];
      let flushScheduled = false;
      const flush = (): void => {
        flushScheduled = false;
        if (closed || out.length === 0) return;
        const results = out;
        out = [];
        call.write({ results });
        if (clientEnded && pending === 0) {
          closed = true;
          call.end();
        }
      };
      const settle = (r: WireProposalResult): void => {
        pending--;
        out.push(r);
        // Results that settle in the same turn (one Ready's worth of commits) share one write.
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      };
      call.on('data', (req: WireProposeRequest) => {
        const timeout = req.timeoutMs > 0 ? req.timeoutMs : undefined;
        for (const p of req.proposals) {
          pending++;
          const requestId = p.requestId;
          handler.propose(p.data, timeout).then(
            (res) => settle({ requestId, ok: true, index: res.index, term: res.term, errorCode: '', errorMessage: '', leaderId: '', leaderAddr: '' }),
            (err: unknown) => settle(proposalError(requestId, err)),
          );
        }
      });
      call.on('end', () => {
        clientEnded = true;
        if (pending === 0 && !closed) {
          closed = true;
          call.end();
        }
      });
      call.on('error', () => {
        closed = true;
      });
      call.on('cancelled', () => {
        closed = true;
      });
    },

    Status(_call: ServerUnaryCall<WireStatusRequest, WireStatusResponse>, callback: sendUnaryData<WireStatusResponse>): void {
      try {
        callback(null, handler.status());
      } catch (err) {
        callback({ code: grpcStatus.INTERNAL, details: errorMessage(err) }, null);
      }
    },
  };
}

function proposalError(requestId: number, err: unknown): WireProposalResult {
  if (isTsswarmError(err)) {
    const d = err.details;
    return {
      requestId,
      ok: false,
      index: 0,
      term: 0,
      errorCode: err.code,
      errorMessage: err.message,
      leaderId: typeof d.leaderId === 'string' ? d.leaderId : '',
      leaderAddr: typeof d.leaderAddr === 'string' ? d.leaderAddr : '',
    };
  }
  return { requestId, ok: false, index: 0, term: 0, errorCode: 'INTERNAL', errorMessage: errorMessage(err), leaderId: '', leaderAddr: '' };
}
