import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GOSSIP_KEY_SUBSYSTEM, NetworkKeyRotation } from '../../src/daemon/network-key-rotation.js';
import { gossipKeyBytes, gossipSeeds } from '../../src/daemon/node-gossip.js';
import { LocalProposer, MemoryStore } from '../../src/manager/store/index.js';
import type { Cluster, EncryptionKey } from '../../src/objects/index.js';
import { until } from '../support/wait.js';
import { VirtualClock } from '../manager/orchestrator/virtual-clock.js';

const HOUR = 60 * 60 * 1_000;

/** Seeded keys: byte i of key n is (n * 31 + i) & 0xff, so tests know exactly which key is which. */
function keyMaker(): { newKey: () => Uint8Array; made: Uint8Array[] } {
  const made: Uint8Array[] = [];
  return {
    made,
    newKey: () => {
      const n = made.length + 1;
      const key = Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i) & 0xff);
      made.push(key);
      return key;
    },
  };
}

/** A logger whose every line is kept, to show that no key reaches the logs. */
function capturingLogger(): { logger: pino.Logger; text: () => string } {
  let text = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => { text += chunk.toString(); cb(); } });
  return { logger: pino({ level: 'trace' }, sink), text: () => text };
}

let store: MemoryStore;
const rotations: NetworkKeyRotation[] = [];

async function freshStore(clock: VirtualClock, extraKeys: EncryptionKey[] = []): Promise<void> {
  store = new MemoryStore({ wallClock: () => clock.now() });
  store.attach(new LocalProposer(store));
  const lamportClock = Math.max(0, ...extraKeys.map((k) => k.lamportTime));
  await store.update((tx) => tx.create('cluster', { id: 'gk-cluster', spec: { annotations: { name: 'default' } }, networkBootstrapKeys: extraKeys, encryptionKeyLamportClock: lamportClock }));
}

function cluster(): Cluster {
  return store.view((tx) => tx.list('cluster')[0]!);
}

function gossipKeys(): EncryptionKey[] {
  return cluster().networkBootstrapKeys.filter((k) => k.subsystem === GOSSIP_KEY_SUBSYSTEM);
}

afterEach(async () => {
  for (const r of rotations.splice(0)) await r.stop();
  store.close();
});

describe('the leader\'s gossip key rotation', () => {
  it('makes a full keyring of three 32-byte keys at once, rotates every 12 h keeping 3, and never logs a key', async () => {
    const clock = new VirtualClock();
    const ipsec: EncryptionKey = { subsystem: 'networking:ipsec', algorithm: 'AES_256_GCM', key: new Uint8Array(32).fill(7), lamportTime: 9 };
    await freshStore(clock, [ipsec]);
    const { newKey, made } = keyMaker();
    const { logger, text } = capturingLogger();
    const rotation = new NetworkKeyRotation({ store, logger, clock, newKey });
    rotations.push(rotation);
    rotation.start();
    await until(() => gossipKeys().length === 3, 'the first keyring in the Cluster');
    expect(gossipKeys().map((k) => k.lamportTime)).toEqual([1, 2, 3]);
    expect(gossipKeys().map((k) => Buffer.from(k.key).toString('hex'))).toEqual(made.map((k) => Buffer.from(k).toString('hex')));
    expect(gossipKeys().every((k) => k.algorithm === 'AES_256_GCM' && k.key.length === 32)).toBe(true);
    // Other subsystems' keys are left alone; the cluster's Lamport clock never goes back.
    expect(cluster().networkBootstrapKeys.find((k) => k.subsystem === 'networking:ipsec')?.lamportTime).toBe(9);
    expect(cluster().encryptionKeyLamportClock).toBe(9);

    const version = cluster().meta.version;
    clock.advance(12 * HOUR - 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(cluster().meta.version).toBe(version);

    clock.advance(60_000);
    await until(() => gossipKeys().map((k) => k.lamportTime).join() === '2,3,4', 'the first rotation');
    expect(Buffer.from(gossipKeys()[2]!.key).equals(Buffer.from(made[3]!))).toBe(true);
    clock.advance(12 * HOUR);
    await until(() => gossipKeys().map((k) => k.lamportTime).join() === '3,4,5', 'the second rotation');
    expect(made).toHaveLength(5);

    for (const key of made) {
      expect(text()).not.toContain(Buffer.from(key).toString('hex'));
      expect(text()).not.toContain(Buffer.from(key).toString('base64'));
    }
    expect(text()).toContain('gossip keys written to the cluster');
  });

  it('a new leader continues from the stored keys: no new keyring, the next Lamport time, 12 h from its election', async () => {
    const clock = new VirtualClock();
    await freshStore(clock);
    const first = keyMaker();
    const old = new NetworkKeyRotation({ store, logger: pino({ level: 'silent' }), clock, newKey: first.newKey });
    old.start();
    await until(() => gossipKeys().length === 3, 'the first keyring');
    await old.stop();
    const stored = gossipKeys().map((k) => Buffer.from(k.key).toString('hex'));

    clock.advance(6 * HOUR);
    const second = keyMaker();
    const next = new NetworkKeyRotation({ store, logger: pino({ level: 'silent' }), clock, newKey: second.newKey });
    rotations.push(next);
    next.start();
    clock.advance(11 * HOUR);
    await new Promise((r) => setTimeout(r, 20));
    expect(gossipKeys().map((k) => Buffer.from(k.key).toString('hex'))).toEqual(stored);
    expect(second.made).toHaveLength(0);
    clock.advance(HOUR);
    await until(() => gossipKeys().map((k) => k.lamportTime).join() === '2,3,4', 'the new leader\'s rotation');
    expect(second.made).toHaveLength(1);
    expect(cluster().encryptionKeyLamportClock).toBe(4);
  });

  it('refuses a config that would keep fewer than 2 keys, changing nothing', async () => {
    const clock = new VirtualClock();
    await freshStore(clock);
    expect(() => new NetworkKeyRotation({ store, logger: pino({ level: 'silent' }), clock, config: { keysKept: 1 } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(gossipKeys()).toHaveLength(0);
  });
});

describe('what a node takes from its session', () => {
  it('uses only the gossip keys, newest last', () => {
    const k = (subsystem: string, lamportTime: number, fill: number, length = 32): EncryptionKey => ({ subsystem, algorithm: 'AES_256_GCM', key: new Uint8Array(length).fill(fill), lamportTime });
    const keys = gossipKeyBytes([k(GOSSIP_KEY_SUBSYSTEM, 3, 3), k('networking:ipsec', 5, 5), k(GOSSIP_KEY_SUBSYSTEM, 1, 1), k(GOSSIP_KEY_SUBSYSTEM, 2, 2), k(GOSSIP_KEY_SUBSYSTEM, 4, 4, 16)]);
    expect(keys.map((b) => b[0])).toEqual([1, 2, 3]);
  });

  it('seeds gossip with the managers\' hosts on the gossip port, never itself', () => {
    expect(gossipSeeds(['127.0.0.62:2377', '127.0.0.61:40001', '127.0.0.62:2377', '[fd00::3]:2377'], '127.0.0.61', 7946)).toEqual(['127.0.0.62:7946', '[fd00::3]:7946']);
    expect(gossipSeeds([], '127.0.0.61', 7946)).toEqual([]);
  });
});
