import { randomBytes } from 'node:crypto';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/log/logger.js';
import { RaftTransport, type TransportHandler, type TransportTuning } from '../../../../src/manager/raft/transport/index.js';
import { EntryType, MessageType, type Message, type NodeId } from '../../../../src/manager/raft/types.js';
import { until } from '../../../support/wait.js';

/** Records everything the transport hands to its owner. */
class Recorder implements TransportHandler {
  batches: Array<{ from: NodeId; messages: Message[] }> = [];
  snapshots: Message[] = [];
  unreachable: Array<{ peer: NodeId; reason: string }> = [];
  brokenStreams: NodeId[] = [];
  snapshotStatus: Array<{ peer: NodeId; ok: boolean }> = [];
  failSnapshots = false;
  removedBy: NodeId[] = [];
  turnAway = new Set<NodeId>();
  onMessages(from: NodeId, messages: Message[]): boolean {
    if (this.turnAway.has(from)) return false;
    this.batches.push({ from, messages });
    return true;
  }
  onRemoved(by: NodeId): void {
    this.removedBy.push(by);
  }
  async onSnapshot(message: Message): Promise<void> {
    if (this.failSnapshots) throw new Error('refused by test');
    this.snapshots.push(message);
  }
  onPeerStreamBroken(from: NodeId): void {
    this.brokenStreams.push(from);
  }
  onUnreachable(peer: NodeId, reason: string): void {
    this.unreachable.push({ peer, reason });
  }
  onSnapshotStatus(peer: NodeId, ok: boolean): void {
    this.snapshotStatus.push({ peer, ok });
  }
  propose(): Promise<{ index: number; term: number }> {
    return Promise.resolve({ index: 1, term: 1 });
  }
  status() {
    return { id: 'x', term: 0, leaderId: '', leaderAddr: '', commit: 0, applied: 0, members: [], role: 'follower' };
  }
}

const running: RaftTransport[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

async function start(id: NodeId, handler: TransportHandler, listen = '127.0.0.1:0', tuning: Partial<TransportTuning> = {}): Promise<RaftTransport> {
  const t = await RaftTransport.start({
    id,
    listen,
    serverCredentials: ServerCredentials.createInsecure(),
    channelCredentials: ChannelCredentials.createInsecure(),
    handler,
    logger: silentLogger(),
    tuning,
  });
  running.push(t);
  return t;
}

function msg(to: NodeId, from: NodeId, type: MessageType, extra: Partial<Message> = {}): Message {
  return { type, to, from, term: 3, logTerm: 2, index: 7, entries: [], commit: 6, reject: false, rejectHint: 0, ...extra };
}

describe('RaftTransport on loopback', () => {
  it('delivers all messages of one send to a peer as one batch, in order, with every field', async () => {
    const ra = new Recorder();
    const rb = new Recorder();
    const a = await start('a', ra);
    const b = await start('b', rb);
    a.setPeer('b', b.address);
    const entries = [1, 2, 3].map((i) => ({ term: 3, index: 7 + i, type: i === 2 ? EntryType.ConfChange : EntryType.Normal, data: randomBytes(256) }));
    const sent: Message[] = [
      msg('b', 'a', MessageType.App, { entries }),
      msg('b', 'a', MessageType.Heartbeat, { context: Uint8Array.from([9, 8, 7]) }),
      msg('b', 'a', MessageType.VoteResp, { reject: true, rejectHint: 5 }),
    ];
    a.send(sent);
    await until(() => rb.batches.length === 1 && rb.batches[0]!.messages.length === 3, 'one batch of 3');
    const got = rb.batches[0]!;
    expect(got.from).toBe('a');
    expect(got.messages.map((m) => m.type)).toEqual([MessageType.App, MessageType.Heartbeat, MessageType.VoteResp]);
    const app = got.messages[0]!;
    expect(app).toMatchObject({ to: 'b', from: 'a', term: 3, logTerm: 2, index: 7, commit: 6, reject: false });
    expect(app.entries.map((e) => [e.term, e.index, e.type])).toEqual(entries.map((e) => [e.term, e.index, e.type]));
    expect(app.entries.map((e) => Buffer.from(e.data).toString('hex'))).toEqual(entries.map((e) => Buffer.from(e.data).toString('hex')));
    expect(app.context).toBeUndefined();
    expect([...got.messages[1]!.context!]).toEqual([9, 8, 7]);
    expect(got.messages[2]).toMatchObject({ reject: true, rejectHint: 5 });

    // A second send is a second batch on the same stream; messages to others are not mixed in.
    a.send([msg('b', 'a', MessageType.Heartbeat), msg('zzz', 'a', MessageType.Heartbeat)]);
    await until(() => rb.batches.length === 2, 'second batch');
    expect(rb.batches[1]!.messages).toHaveLength(1);
    expect(ra.unreachable.map((u) => u.peer)).toContain('zzz');
  });

  it('sends a snapshot in chunks, reassembles it as one Snap message and reports the outcome', async () => {
    const ra = new Recorder();
    const rb = new Recorder();
    const a = await start('a', ra, '127.0.0.1:0', { snapshotChunkBytes: 1000 });
    const b = await start('b', rb);
    a.setPeer('b', b.address);
    const data = randomBytes(10_500);
    const snapMsg = msg('b', 'a', MessageType.Snap, {
      snapshot: { metadata: { index: 40, term: 3, confState: { voters: ['a', 'b'], learners: ['c'] } }, data },
    });
    a.send([snapMsg]);
    await until(() => ra.snapshotStatus.length === 1, 'snapshot status');
    expect(ra.snapshotStatus[0]).toEqual({ peer: 'b', ok: true });
    expect(rb.snapshots).toHaveLength(1);
    const got = rb.snapshots[0]!;
    expect(got.type).toBe(MessageType.Snap);
    expect(got.snapshot!.metadata).toEqual({ index: 40, term: 3, confState: { voters: ['a', 'b'], learners: ['c'] } });
    expect(Buffer.from(got.snapshot!.data).equals(data)).toBe(true);

    rb.failSnapshots = true;
    a.send([snapMsg]);
    await until(() => ra.snapshotStatus.length === 2, 'second snapshot status');
    expect(ra.snapshotStatus[1]).toEqual({ peer: 'b', ok: false });
  });

  it('reports a broken stream at once on both sides, and reconnects when the peer returns', async () => {
    const ra = new Recorder();
    const rb = new Recorder();
    const a = await start('a', ra);
    let b = await start('b', rb);
    const addr = b.address;
    a.setPeer('b', addr);
    a.send([msg('b', 'a', MessageType.Heartbeat)]);
    await until(() => rb.batches.length === 1, 'first heartbeat');

    // b goes away (its sockets close, as when its process is killed): a learns without sending.
    running.splice(running.indexOf(b), 1);
    await b.stop();
    await until(() => ra.unreachable.some((u) => u.peer === 'b'), 'a reports b unreachable', 3_000);

    // b comes back on the same address; a's next sends get through after the backoff.
    const rb2 = new Recorder();
    b = await start('b', rb2, addr);
    await until(() => {
      a.send([msg('b', 'a', MessageType.Heartbeat)]);
      return rb2.batches.length > 0;
    }, 'reconnect to restarted b');

    // Now a goes away: b's server side names a as the peer whose stream broke.
    running.splice(running.indexOf(a), 1);
    await a.stop();
    await until(() => rb2.brokenStreams.includes('a'), 'b sees a stream break', 3_000);
  });

  it('reports a peer that nothing listens on as unreachable', async () => {
    const ra = new Recorder();
    const a = await start('a', ra);
    const probe = await start('probe', new Recorder());
    const deadAddr = probe.address;
    running.splice(running.indexOf(probe), 1);
    await probe.stop();
    a.setPeer('b', deadAddr);
    a.send([msg('b', 'a', MessageType.Heartbeat)]);
    await until(() => ra.unreachable.some((u) => u.peer === 'b'), 'unreachable report', 5_000);
  });
});

describe('RaftTransport: removed members', () => {
  it('tells a sender that the receiver turned away that it was removed', async () => {
    const ra = new Recorder();
    const rb = new Recorder();
    rb.turnAway.add('a');
    const a = await start('a', ra);
    const b = await start('b', rb);
    a.setPeer('b', b.address);
    a.send([msg('b', 'a', MessageType.Heartbeat)]);
    await until(() => ra.removedBy.includes('b'), 'a learns it was removed');
    expect(rb.batches).toHaveLength(0);
  });
});
