/**
 * The gossip transport on real sockets: one UDP socket for packets and one TCP server for
 * request/reply streams ([u32 length][sealed frame] each way), on the same address and port.
 * It seals and opens everything; it counts what it drops. It decides nothing.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { TsswarmError } from '../../errors/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { open, seal, type DropReason } from '../crypto/sealer.js';
import { MAX_STREAM_FRAME, SEAL_OVERHEAD } from '../wire/limits.js';

export interface TransportCounters {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  streamsOpened: number;
  streamsAccepted: number;
  streamsFailed: number;
  dropped: Record<DropReason | 'oversize' | 'blocked', number>;
}

export interface TransportHandlers {
  packet(from: string, plaintext: Uint8Array): void;
  /** Serves a request; returns the reply plaintext or undefined for none. */
  stream(from: string, plaintext: Uint8Array): Uint8Array | undefined;
}

export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

const MAX_SEALED_FRAME = MAX_STREAM_FRAME + SEAL_OVERHEAD;

export class SocketTransport {
  readonly counters: TransportCounters = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    streamsOpened: 0,
    streamsAccepted: 0,
    streamsFailed: 0,
    dropped: { 'not-encrypted': 0, 'unknown-key': 0, 'decrypt-failed': 0, oversize: 0, blocked: 0 },
  };
  /** Test hook: hosts whose traffic is dropped both ways, to make a partition on loopback. */
  readonly blockedHosts = new Set<string>();
  private readonly openSockets = new Set<TcpSocket>();
  private closed = false;

  private constructor(
    private readonly udp: Socket,
    private readonly tcp: Server,
    private readonly keyring: Keyring,
    private readonly handlers: TransportHandlers,
    private readonly packetLimit: number,
    private readonly streamTimeoutMs: number,
  ) {}

  static async listen(opts: { host: string; port: number; keyring: Keyring; handlers: TransportHandlers; packetLimit: number; streamTimeoutMs: number }): Promise<{ transport: SocketTransport; port: number }> {
    const addr = `${opts.host}:${opts.port}`;
    const fail = (err: unknown): TsswarmError =>
      new TsswarmError('GOSSIP_BIND_FAILED', { addr, port: opts.port, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
    const tcp = createServer();
    const port = await new Promise<number>((res, rej) => {
      tcp.once('error', (e) => rej(fail(e)));
      tcp.listen(opts.port, opts.host, () => res((tcp.address() as { port: number }).port));
    });
    const udp = createSocket({ type: 'udp4' });
    try {
      await new Promise<void>((res, rej) => {
        udp.once('error', (e) => rej(fail(e)));
        udp.bind(port, opts.host, () => res());
      });
    } catch (e) {
      tcp.close();
      throw e;
    }
    const t = new SocketTransport(udp, tcp, opts.keyring, opts.handlers, opts.packetLimit, opts.streamTimeoutMs);
    udp.on('message', (msg, rinfo) => t.onPacket(msg, `${rinfo.address}:${rinfo.port}`, rinfo.address));
    udp.on('error', () => {});
    tcp.on('connection', (s) => t.onConnection(s));
    return { transport: t, port };
  }

  private onPacket(msg: Buffer, from: string, host: string): void {
    if (this.blockedHosts.has(host)) {
      this.counters.dropped.blocked++;
      return;
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += msg.length;
    const opened = open(this.keyring, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (!opened.ok) {
      this.counters.dropped[opened.reason]++;
      return;
    }
    this.handlers.packet(from, opened.plaintext);
  }

  sendPacket(to: string, plaintext: Uint8Array): void {
    if (this.closed) return;
    const { host, port } = splitAddr(to);
    if (this.blockedHosts.has(host)) {
      this.counters.dropped.blocked++;
      return;
    }
    const sealed = seal(this.keyring, plaintext);
    if (sealed.length > this.packetLimit) {
      this.counters.dropped.oversize++;
      return;
    }
    this.counters.packetsSent++;
    this.counters.bytesSent += sealed.length;
    this.udp.send(sealed, port, host);
  }

  /** Test hook: sends raw bytes as a packet, e.g. one sealed with a key the peer lacks. */
  sendRaw(to: string, bytes: Uint8Array): void {
    const { host, port } = splitAddr(to);
    this.udp.send(bytes, port, host);
  }

  private onConnection(sock: TcpSocket): void {
    const host = sock.remoteAddress ?? '';
    if (this.closed || this.blockedHosts.has(host)) {
      this.counters.dropped.blocked++;
      sock.destroy();
      return;
    }
    this.counters.streamsAccepted++;
    this.track(sock);
    sock.setTimeout(this.streamTimeoutMs, () => sock.destroy());
    readFrame(sock, (frame) => {
      if (frame === undefined) return void sock.destroy();
      this.counters.bytesReceived += frame.length;
      const opened = open(this.keyring, frame);
      if (!opened.ok) {
        this.counters.dropped[opened.reason]++;
        return void sock.destroy();
      }
      const reply = this.handlers.stream(`${host}:${sock.remotePort ?? 0}`, opened.plaintext);
      if (reply === undefined) return void sock.end();
      const sealed = seal(this.keyring, reply);
      this.counters.bytesSent += sealed.length + 4;
      sock.end(lengthPrefixed(sealed));
    });
  }

  /** Sends a request frame and resolves with the reply plaintext; rejects on any failure. */
  request(to: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const { host, port } = splitAddr(to);
    if (this.closed || this.blockedHosts.has(host)) {
      this.counters.dropped.blocked++;
      this.counters.streamsFailed++;
      return Promise.reject(new Error('blocked'));
    }
    this.counters.streamsOpened++;
    return new Promise((resolve, reject) => {
      const sock = createConnection({ host, port });
      this.track(sock);
      let settled = false;
      const finish = (err: Error | undefined, value?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        sock.destroy();
        if (err !== undefined) {
          this.counters.streamsFailed++;
          reject(err);
        } else resolve(value!);
      };
      sock.setTimeout(this.streamTimeoutMs, () => finish(new Error('stream timed out')));
      sock.once('error', (e) => finish(e));
      sock.once('connect', () => {
        const sealed = seal(this.keyring, plaintext);
        this.counters.bytesSent += sealed.length + 4;
        sock.write(lengthPrefixed(sealed));
      });
      readFrame(sock, (frame) => {
        if (frame === undefined) return finish(new Error('stream closed without a reply'));
        this.counters.bytesReceived += frame.length;
        const opened = open(this.keyring, frame);
        if (!opened.ok) {
          this.counters.dropped[opened.reason]++;
          return finish(new Error(`reply dropped: ${opened.reason}`));
        }
        finish(undefined, opened.plaintext);
      });
    });
  }

  private track(sock: TcpSocket): void {
    this.openSockets.add(sock);
    sock.once('close', () => this.openSockets.delete(sock));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.openSockets) s.destroy();
    await Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]);
  }
}

function lengthPrefixed(b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + b.length);
  out.writeUInt32BE(b.length, 0);
  out.set(b, 4);
  return out;
}

/** Reads one length-prefixed frame; calls back with undefined on EOF, error or an oversized length. */
function readFrame(sock: TcpSocket, done: (frame: Uint8Array | undefined) => void): void {
  const chunks: Buffer[] = [];
  let have = 0;
  let want = -1;
  let finished = false;
  const finish = (f: Uint8Array | undefined): void => {
    if (finished) return;
    finished = true;
    sock.removeListener('data', onData);
    done(f);
  };
  const onData = (c: Buffer): void => {
    chunks.push(c);
    have += c.length;
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (chunks.length > 1) {
      chunks.length = 0;
      chunks.push(buf);
    }
    if (want < 0 && have >= 4) {
      want = buf.readUInt32BE(0);
      if (want > MAX_SEALED_FRAME) return finish(undefined);
    }
    if (want >= 0 && have >= 4 + want) finish(new Uint8Array(buf.subarray(4, 4 + want)));
  };
  sock.on('data', onData);
  sock.once('end', () => finish(undefined));
  sock.once('close', () => finish(undefined));
  sock.once('error', () => finish(undefined));
}
