import { Client, credentials, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { TsswarmError, type ErrorCode } from '../../../errors/index.js';
import { loadRaftProto } from '../transport/index.js';
import type {
  WireAppliedRequest,
  WireAppliedResponse,
  WireProposalResult,
  WireProposeRequest,
  WireProposeResponse,
  WireStatusRequest,
  WireStatusResponse,
} from '../transport/index.js';
import { encodeCommand } from './command-codec.js';

export interface ProposeAck {
  readonly index: number;
  readonly term: number;
  /** The member that acknowledged (the leader at the time). */
  readonly addr: string;
}

export interface RaftClientOptions {
  /** ms per proposal, sent to the server and enforced here too (plus a margin). */
  readonly timeoutMs?: number;
  /** Follow RAFT_NOT_LEADER redirects to the leader (default). Off pins the client to its first address. */
  readonly followLeader?: boolean;
  readonly credentials?: ChannelCredentials;
}

interface InFlight {
  readonly seq: number;
  readonly data: Uint8Array;
  readonly deadline: number;
  readonly resolve: (a: ProposeAck) => void;
  readonly reject: (e: TsswarmError) => void;
  conn?: Connection;
}

interface Connection {
  readonly addr: string;
  readonly client: Client;
  readonly stream: ClientDuplexStream<WireProposeRequest, WireProposeResponse>;
  readonly inFlight: Map<number, InFlight>;
  queue: InFlight[];
  flushScheduled: boolean;
  dead: boolean;
}

/** Codes after which the entry was certainly not appended, so resending the same command is safe. */
const SAFE_TO_RESEND: ReadonlySet<string> = new Set(['RAFT_NOT_LEADER', 'RAFT_PROPOSAL_DROPPED']);
/** Pause before resending while no leader is known (an election is under way). */
const NO_LEADER_RETRY_MS = 20;
/** ms past a proposal's deadline before the client gives up on a silent member. */
const SWEEP_MARGIN_MS = 2_000;

/**
 * A client of the members' Propose streams, used by the multi-process test and the benchmark.
 * It keeps one bidirectional stream to its current target, batches all proposals made in one
 * event-loop turn into one write, and follows RAFT_NOT_LEADER redirects. It resends only after
 * errors that prove the entry was not appended (not leader, dropped); anything ambiguous
 * (timeout, stream broken, stopped) is returned to the caller, who must not assume either way.
 */
export class RaftClient {
  private readonly proto = loadRaftProto();
  private readonly creds: ChannelCredentials;
  private readonly timeoutMs: number;
  private readonly followLeader: boolean;
  private readonly conns = new Map<string, Connection>();
  private target: string;
  private targetIdx = 0;
  private seq = 0;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly addrs: readonly string[],
    options: RaftClientOptions = {},
  ) {
    if (addrs.length === 0) throw new RangeError('RaftClient needs at least one address');
    this.target = addrs[0]!;
    this.creds = options.credentials ?? credentials.createInsecure();
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.followLeader = options.followLeader ?? true;
    // The server enforces the timeout; this sweep only catches a member that stopped
    // answering altogether (e.g. SIGSTOP), a couple of seconds past the deadline.
    this.sweeper = setInterval(() => this.sweep(), 500);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now() - SWEEP_MARGIN_MS;
    for (const c of this.conns.values()) {
      for (const [seq, p] of c.inFlight) {
        if (p.deadline > now) continue;
        c.inFlight.delete(seq);
        p.reject(new TsswarmError('RAFT_TIMEOUT', { timeoutMs: this.timeoutMs }));
      }
    }
  }

  /** Proposes a command (request ID + payload). Resolves once the leader applied it. */
  propose(requestId: string, payload: Uint8Array): Promise<ProposeAck> {
    return this.proposeRaw(encodeCommand(requestId, payload));
  }

  proposeRaw(data: Uint8Array): Promise<ProposeAck> {
    if (this.closed) return Promise.reject(new TsswarmError('RAFT_STOPPED', {}));
    return new Promise<ProposeAck>((resolve, reject) => {
      this.enqueue({ seq: ++this.seq, data, deadline: Date.now() + this.timeoutMs, resolve, reject });
    });
  }

  private enqueue(p: InFlight): void {
    if (Date.now() > p.deadline) {
      p.reject(new TsswarmError('RAFT_TIMEOUT', { timeoutMs: this.timeoutMs }));
      return;
    }
    const conn = this.connection(this.target);
    p.conn = conn;
    conn.inFlight.set(p.seq, p);
    conn.queue.push(p);
    if (!conn.flushScheduled) {
      conn.flushScheduled = true;
      setImmediate(() => this.flush(conn));
    }
  }

  private flush(conn: Connection): void {
    conn.flushScheduled = false;
    if (conn.dead || conn.queue.length === 0) return;
    const batch = conn.queue;
    conn.queue = [];
    conn.stream.write({ proposals: batch.map((p) => ({ requestId: p.seq, data: p.data })), timeoutMs: this.timeoutMs });
  }

  private connection(addr: string): Connection {
    const existing = this.conns.get(addr);
    if (existing !== undefined && !existing.dead) return existing;
    const def = this.proto.raftService.Propose!;
    const client = new Client(addr, this.creds, { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 500 });
    const stream = client.makeBidiStreamRequest<WireProposeRequest, WireProposeResponse>(def.path, def.requestSerialize, def.responseDeserialize);
    const conn: Connection = { addr, client, stream, inFlight: new Map(), queue: [], flushScheduled: false, dead: false };
    stream.on('data', (res: WireProposeResponse) => {
      for (const r of res.results) this.onResult(conn, r);
    });
    stream.on('error', (err: ServiceError) => this.onBroken(conn, err.details || err.message));
    stream.on('end', () => this.onBroken(conn, 'server ended the stream'));
    this.conns.set(addr, conn);
    return conn;
  }

  private onResult(conn: Connection, r: WireProposalResult): void {
    const p = conn.inFlight.get(r.requestId);
    if (p === undefined) return;
    conn.inFlight.delete(r.requestId);
    if (r.ok) {
      p.resolve({ index: r.index, term: r.term, addr: conn.addr });
      return;
    }
    if (this.followLeader && SAFE_TO_RESEND.has(r.errorCode)) {
      if (r.errorCode === 'RAFT_NOT_LEADER' && r.leaderAddr !== '' && r.leaderAddr !== 'unknown') {
        this.target = r.leaderAddr;
        this.enqueue(p);
      } else {
        setTimeout(() => this.enqueue(p), NO_LEADER_RETRY_MS);
      }
      return;
    }
    p.reject(
      new TsswarmError(isCode(r.errorCode) ? r.errorCode : 'INTERNAL', {
        detail: r.errorMessage,
        leaderId: r.leaderId,
        leaderAddr: r.leaderAddr,
        nodeId: r.leaderId,
        timeoutMs: this.timeoutMs,
        reason: r.errorMessage,
      }),
    );
  }

  /** Every proposal on a broken stream has an unknown outcome; later ones go to the next member. */
  private onBroken(conn: Connection, reason: string): void {
    if (conn.dead) return;
    conn.dead = true;
    conn.client.close();
    if (this.conns.get(conn.addr) === conn) this.conns.delete(conn.addr);
    const lost = [...conn.inFlight.values()];
    conn.inFlight.clear();
    conn.queue = [];
    if (this.followLeader && this.target === conn.addr) {
      this.targetIdx = (this.targetIdx + 1) % this.addrs.length;
      this.target = this.addrs[this.targetIdx]!;
    }
    for (const p of lost) p.reject(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '?', addr: conn.addr, reason }));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const c of this.conns.values()) {
      c.dead = true;
      c.stream.cancel();
      c.client.close();
      for (const p of c.inFlight.values()) p.reject(new TsswarmError('RAFT_STOPPED', {}));
    }
    this.conns.clear();
  }
}

function isCode(code: string): code is ErrorCode {
  return (
    code.startsWith('RAFT_') || code.startsWith('TRANSPORT_') || code.startsWith('STORAGE_') || code === 'INTERNAL' || code === 'CONFIG_INVALID'
  );
}

/** One-shot Status RPC against one member. */
export async function memberStatus(addr: string, timeoutMs = 2_000, creds: ChannelCredentials = credentials.createInsecure()): Promise<WireStatusResponse> {
  const def = loadRaftProto().raftService.Status!;
  const client = new Client(addr, creds);
  try {
    return await new Promise<WireStatusResponse>((resolve, reject) => {
      client.makeUnaryRequest<WireStatusRequest, WireStatusResponse>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        {},
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('empty status')) : resolve(res)),
      );
    });
  } finally {
    client.close();
  }
}

/** One-shot MemberProbe.Applied RPC: what the member's recording state machine applied. */
export async function memberApplied(addr: string, includeIds: boolean, timeoutMs = 10_000, creds: ChannelCredentials = credentials.createInsecure()): Promise<WireAppliedResponse> {
  const def = loadRaftProto().probeService.Applied!;
  const client = new Client(addr, creds, { 'grpc.max_receive_message_length': 256 << 20 });
  try {
    return await new Promise<WireAppliedResponse>((resolve, reject) => {
      client.makeUnaryRequest<WireAppliedRequest, WireAppliedResponse>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        { includeIds },
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err !== null || res === undefined ? reject(err ?? new Error('empty reply')) : resolve(res)),
      );
    });
  } finally {
    client.close();
  }
}
