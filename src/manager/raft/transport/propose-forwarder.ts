import { Client, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { TsswarmError, type ErrorCode, errorCatalog } from '../../../errors/index.js';
import type { RaftProto } from './load-proto.js';
import type { WireProposalResult, WireProposeRequest, WireProposeResponse } from './wire-types.js';

interface Waiter {
  readonly resolve: (r: { index: number; term: number }) => void;
  readonly reject: (e: TsswarmError) => void;
}

/**
 * A follower's path for writes: one Propose stream to the current leader, on which every
 * proposal made in one event-loop turn goes out as one batch. Results come back by request ID.
 * Errors keep their catalog code (e.g. RAFT_NOT_LEADER if leadership moved meanwhile); a broken
 * stream fails what was in flight with TRANSPORT_UNREACHABLE (the outcome is then unknown).
 */
export class ProposeForwarder {
  private client: Client | undefined;
  private stream: ClientDuplexStream<WireProposeRequest, WireProposeResponse> | undefined;
  private addr = '';
  private seq = 0;
  private readonly waiting = new Map<number, Waiter>();
  private queue: Array<{ requestId: number; data: Uint8Array }> = [];
  private queueTimeoutMs = 0;
  private flushScheduled = false;

  constructor(
    private readonly proto: RaftProto,
    private readonly credentials: ChannelCredentials,
  ) {}

  forward(leaderAddr: string, data: Uint8Array, timeoutMs: number): Promise<{ index: number; term: number }> {
    if (leaderAddr !== this.addr) this.connect(leaderAddr);
    const requestId = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      this.queue.push({ requestId, data });
      this.queueTimeoutMs = Math.max(this.queueTimeoutMs, timeoutMs);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.stream === undefined) return;
    this.stream.write({ proposals: this.queue, timeoutMs: this.queueTimeoutMs });
    this.queue = [];
    this.queueTimeoutMs = 0;
  }

  private connect(addr: string): void {
    this.drop('leader changed');
    const def = this.proto.raftService.Propose!;
    const client = new Client(addr, this.credentials, { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 1_000 });
    const stream = client.makeBidiStreamRequest<WireProposeRequest, WireProposeResponse>(def.path, def.requestSerialize, def.responseDeserialize);
    stream.on('data', (res: WireProposeResponse) => {
      for (const r of res.results) this.settle(r);
    });
    const broken = (reason: string): void => {
      if (this.stream === stream) this.drop(reason);
    };
    stream.on('error', (err: ServiceError) => broken(err.details || err.message));
    stream.on('end', () => broken('leader ended the stream'));
    this.client = client;
    this.stream = stream;
    this.addr = addr;
  }

  private settle(r: WireProposalResult): void {
    const w = this.waiting.get(r.requestId);
    if (w === undefined) return;
    this.waiting.delete(r.requestId);
    if (r.ok) {
      w.resolve({ index: r.index, term: r.term });
      return;
    }
    const code: ErrorCode = r.errorCode in errorCatalog ? (r.errorCode as ErrorCode) : 'INTERNAL';
    w.reject(
      new TsswarmError(code, {
        nodeId: r.leaderId,
        leaderId: r.leaderId,
        leaderAddr: r.leaderAddr,
        reason: r.errorMessage,
        detail: r.errorMessage,
      }),
    );
  }

  /** Fails everything in flight (outcome unknown) and closes the stream. */
  private drop(reason: string): void {
    const stream = this.stream;
    const client = this.client;
    const addr = this.addr;
    this.stream = undefined;
    this.client = undefined;
    this.addr = '';
    this.queue = [];
    stream?.cancel();
    client?.close();
    const lost = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of lost) w.reject(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: 'leader', addr, reason }));
  }

  close(): void {
    this.drop('forwarder closed');
  }
}
