/**
 * The daemon's gossip wiring (NodeGossip) on real sockets in this process, 127.0.0.67 and
 * 127.0.0.68 on 7946, driven by session events as the dispatcher session would emit them: it
 * starts only once keys arrive, follows key rotations without a restart (sending with the
 * second-newest key, so a node a rotation behind still understands it), and leaves on stop.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GOSSIP_KEY_SUBSYSTEM } from '../../src/daemon/network-key-rotation.js';
import { NodeGossip, type GossipSessionEvents } from '../../src/daemon/node-gossip.js';
import { GossipNode } from '../../src/gossip/index.js';
import type { EncryptionKey } from '../../src/objects/index.js';
import type { SessionEvents } from '../../src/worker/agent/index.js';
import { until } from '../support/wait.js';

/** Session events by hand: what the agent would emit from its session messages. */
class FakeSession implements GossipSessionEvents {
  private readonly listeners = new Map<string, Set<(v: never) => void>>();
  on<E extends 'networkKeys' | 'managers'>(event: E, listener: SessionEvents[E]): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (v: never) => void);
    return () => set.delete(listener as (v: never) => void);
  }
  emit<E extends 'networkKeys' | 'managers'>(event: E, value: Parameters<SessionEvents[E]>[0]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (v: typeof value) => void)(value);
  }
  count(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}

const A = '127.0.0.67';
const B = '127.0.0.68';
const made: NodeGossip[] = [];
let stranger: GossipNode | undefined;

function key(lamportTime: number, bytes: Uint8Array): EncryptionKey {
  return { subsystem: GOSSIP_KEY_SUBSYSTEM, algorithm: 'AES_256_GCM', key: bytes, lamportTime };
}

function node(id: string, host: string, session: FakeSession): NodeGossip {
  const g = new NodeGossip({ nodeId: id, advertiseHost: host, session, logger: pino({ level: 'silent' }), profile: 'local' });
  made.push(g);
  return g;
}

const stateOf = (g: NodeGossip, id: string): string | undefined => g.info()?.members.find((m) => m.id === id)?.state;

afterEach(async () => {
  for (const g of made.splice(0)) await g.stop();
  await stranger?.stop();
  stranger = undefined;
});

describe('NodeGossip (the daemon\'s gossip) on 127.0.0.67-68', () => {
  it('starts only with keys, follows rotations without a restart, drops a key once rotated out, and leaves on stop', async () => {
    const [k1, k2, k3, k4] = [1, 2, 3, 4].map(() => new Uint8Array(randomBytes(32))) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const sa = new FakeSession();
    const sb = new FakeSession();
    const a = node('gnk-a', A, sa);
    const b = node('gnk-b', B, sb);
    // B's managers are A (host:2377 in the session; gossip uses 7946 of that host).
    sb.emit('managers', [{ nodeId: 'gnk-a', addr: `${A}:2377`, weight: 1 }]);
    sa.emit('managers', [{ nodeId: 'gnk-a', addr: `${A}:2377`, weight: 1 }]);
    // Keys of another subsystem do not start gossip: nothing is ever sent without a gossip key.
    sa.emit('networkKeys', [{ ...key(1, k1), subsystem: 'networking:ipsec' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.info()).toBeUndefined();

    const ring1 = [key(1, k1), key(2, k2), key(3, k3)];
    sa.emit('networkKeys', ring1);
    sb.emit('networkKeys', ring1);
    await until(() => stateOf(a, 'gnk-b') === 'alive' && stateOf(b, 'gnk-a') === 'alive', 'A and B to see each other alive');
    expect(a.info()).toMatchObject({ addr: `${A}:7946`, keys: 3 });

    // A rotation reaches A first: A now sends with k3 (second newest), which B already holds.
    const ring2 = [key(2, k2), key(3, k3), key(4, k4)];
    sa.emit('networkKeys', ring2);
    const receivedByB = b.info()!.packetsReceived;
    await until(() => b.info()!.packetsReceived > receivedByB + 20, 'B to keep receiving from A');
    expect(b.info()!.dropped['unknown-key']).toBe(0);
    expect(stateOf(b, 'gnk-a')).toBe('alive');
    sb.emit('networkKeys', ring2);
    expect(b.info()!.keys).toBe(3);

    // k1 left every keyring: a packet sealed with it is dropped and counted.
    stranger = await GossipNode.start({ nodeId: 'gnk-stranger', bindAddr: '127.0.0.69', advertiseAddr: '127.0.0.69', port: 0, keys: [k1], profile: 'local' });
    stranger.sendProbeWithKey(`${B}:7946`, k1);
    await until(() => b.info()!.dropped['unknown-key'] === 1, 'B to drop the packet sealed with k1');
    expect(stateOf(a, 'gnk-b')).toBe('alive');

    // stop() leaves: A sees B "left" (not dead), and B's session listeners are gone.
    await b.stop();
    expect(sb.count('networkKeys')).toBe(0);
    await until(() => stateOf(a, 'gnk-b') === 'left', 'A to see B left');
    expect(b.info()).toBeUndefined();
  }, 60_000);

  it('a taken port is logged and retried, never thrown: the node gossips once the port is free', async () => {
    const s1 = new FakeSession();
    const s2 = new FakeSession();
    let log = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => { log += chunk.toString(); cb(); } });
    const first = node('gnk-first', A, s1);
    const second = new NodeGossip({ nodeId: 'gnk-second', advertiseHost: A, session: s2, logger: pino({ level: 'info' }, sink), profile: 'local' });
    made.push(second);
    const ring = [key(1, new Uint8Array(randomBytes(32)))];
    s1.emit('networkKeys', ring);
    await until(() => first.info() !== undefined, 'the first node to bind 7946');
    s2.emit('networkKeys', ring);
    await until(() => log.includes('"msg":"gossip did not start"'), 'the second node to log its failed start');
    expect(second.info()).toBeUndefined();
    await first.stop();
    await until(() => second.info()?.addr === `${A}:7946`, 'the second node to bind 7946 on its retry', 30_000);
  }, 60_000);
});
