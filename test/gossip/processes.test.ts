/**
 * Five gossip nodes as real processes on 127.46.1.1-5:7946 (UDP + TCP, AES-256-GCM), with the
 * local profile: they form one group, tables reach exactly their network's members, a killed
 * node is marked dead by all, a node restarted after a partition catches up, and packets with
 * an unknown key or in plaintext are dropped and counted. Runs the compiled code (npm run build).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GossipProcess } from '../../src/gossip/standalone/gossip-process.js';
import { compiledPath } from '../support/compiled.js';
import { until } from '../support/wait.js';

const PREFIX = '127.46.1.';
const PORT = 7946;
const key1 = randomBytes(32).toString('hex');
/** The keyring every node holds now (newest last); a restarted node gets it, as from the dispatcher. */
let currentKeys = [key1];
const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
const networksOf: Record<string, string[]> = { n1: ['net-a'], n2: ['net-a'], n3: ['net-a'], n4: ['net-b'], n5: ['net-b'] };
const addrOf = (id: string): string => `${PREFIX}${id.slice(1)}`;
const procs = new Map<string, GossipProcess>();
const p = (id: string): GossipProcess => procs.get(id)!;

function spawnNode(id: string, keys: string[]): GossipProcess {
  const proc = new GossipProcess({ id, addr: addrOf(id), port: PORT, keys, seeds: id === 'n1' ? [] : [`${addrOf('n1')}:${PORT}`], networks: networksOf[id]!, profile: 'local' });
  proc.start();
  procs.set(id, proc);
  return proc;
}

/** Polls `fn` on the node until it holds (the children answer over stdin/stdout). */
async function eventually(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  let ok = false;
  let busy = false;
  await until(() => {
    if (!busy) {
      busy = true;
      fn().then((v) => { ok = v; busy = false; }, () => { busy = false; });
    }
    return ok;
  }, what, ms);
}

async function stateOf(viewer: string, id: string): Promise<string | undefined> {
  return (await p(viewer).members()).find((m) => m.id === id)?.state;
}

async function entryKeys(id: string, network: string): Promise<string[]> {
  return (await p(id).request<Array<{ key: string }>>('entries', { network, table: 'endpoint_table' })).map((e) => e.key);
}

describe('gossip on real sockets (5 processes)', () => {
  beforeAll(async () => {
    compiledPath(new URL('../../src/gossip/standalone/gossip-main.ts', import.meta.url));
    for (const id of ids) spawnNode(id, [key1]);
    await Promise.all([...procs.values()].map((x) => x.ready));
  });

  afterAll(async () => {
    await Promise.all([...procs.values()].map((x) => x.kill9()));
  });

  it('forms one gossip group', async () => {
    for (const viewer of ids) {
      await eventually(`${viewer} sees five alive members`, async () => (await p(viewer).members()).filter((m) => m.state === 'alive').length === 5);
    }
  });

  it('shares table entries with the network members and no one else', async () => {
    await p('n2').request('put', { network: 'net-a', table: 'endpoint_table', key: 'ep-2', value: '10.0.1.2' });
    await p('n3').request('put', { network: 'net-a', table: 'endpoint_table', key: 'ep-3', value: '10.0.1.3' });
    await p('n4').request('put', { network: 'net-b', table: 'endpoint_table', key: 'ep-4', value: '10.0.2.4' });
    // An entry larger than a 1,400-byte packet travels over TCP instead.
    await p('n1').request('put', { network: 'net-a', table: 'overlay_peer_table', key: 'big', value: 'x'.repeat(5_000) });
    for (const id of ['n1', 'n2', 'n3']) await eventually(`${id} has ep-2 and ep-3`, async () => (await entryKeys(id, 'net-a')).join() === 'ep-2,ep-3');
    await eventually('n5 has ep-4', async () => (await entryKeys('n5', 'net-b')).join() === 'ep-4');
    for (const id of ['n2', 'n3']) {
      await eventually(`${id} has the 5,000-byte entry`, async () => {
        const es = await p(id).request<Array<{ key: string; value: string }>>('entries', { network: 'net-a', table: 'overlay_peer_table' });
        return es.length === 1 && es[0]!.value.length === 5_000;
      });
    }
    // Outsiders refuse to read a network they are not in, and never got an event of it.
    await expect(p('n4').request('entries', { network: 'net-a', table: 'endpoint_table' })).rejects.toMatchObject({ code: 'GOSSIP_NOT_IN_NETWORK' });
    for (const id of ['n4', 'n5']) expect(p(id).events.filter((e) => e.event.kind === 'table' && e.event.network === 'net-a')).toEqual([]);
    for (const id of ['n1', 'n2', 'n3']) expect(p(id).events.filter((e) => e.event.kind === 'table' && e.event.network === 'net-b')).toEqual([]);
  });

  it('drops and counts packets sealed with an unknown key, and plaintext', async () => {
    const before = (await p('n2').request<{ dropped: Record<string, number> }>('stats')).dropped;
    await p('n1').request('send-with-key', { to: `${addrOf('n2')}:${PORT}`, key: randomBytes(32).toString('hex') });
    await p('n1').request('send-plaintext', { to: `${addrOf('n2')}:${PORT}` });
    await eventually('n2 counts both drops', async () => {
      const d = (await p('n2').request<{ dropped: Record<string, number> }>('stats')).dropped;
      return d['unknown-key']! > before['unknown-key']! && d['not-encrypted']! > before['not-encrypted']!;
    });
  });

  it('keeps working through a key rotation (new key first received, then sent with)', async () => {
    const key2 = randomBytes(32).toString('hex');
    const key3 = randomBytes(32).toString('hex');
    for (const id of ids) await p(id).request('set-keys', { keys: [key1, key2].join(',') });
    for (const id of ids) await p(id).request('set-keys', { keys: [key1, key2, key3].join(',') });
    currentKeys = [key1, key2, key3];
    await p('n1').request('put', { network: 'net-a', table: 'endpoint_table', key: 'ep-1', value: '10.0.1.1' });
    for (const id of ['n2', 'n3']) await eventually(`${id} has ep-1 after rotation`, async () => (await entryKeys(id, 'net-a')).includes('ep-1'));
    const d = (await p('n2').request<{ dropped: Record<string, number> }>('stats')).dropped;
    expect(d['decrypt-failed']).toBe(0);
  });

  it('heals a partition by itself: the cut-off node is dead to the others, then alive again with its entries', async () => {
    const rest = ['n1', 'n2', 'n3', 'n5'];
    await p('n4').request('block', { hosts: rest.map(addrOf).join(',') });
    for (const id of rest) await p(id).request('block', { hosts: addrOf('n4') });
    await eventually('n5 sees n4 dead', async () => (await stateOf('n5', 'n4')) === 'dead');
    await eventually('n5 hides ep-4 while n4 is dead', async () => (await entryKeys('n5', 'net-b')).length === 0);
    await eventually('n4 sees n5 dead', async () => (await stateOf('n4', 'n5')) === 'dead');
    for (const id of ['n4', ...rest]) await p(id).request('block', { hosts: '' });
    for (const viewer of rest) await eventually(`${viewer} sees n4 alive again`, async () => (await stateOf(viewer, 'n4')) === 'alive');
    await eventually('n4 sees everyone alive again', async () => (await p('n4').members()).every((m) => m.state === 'alive'));
    await eventually('ep-4 is back on n5', async () => (await entryKeys('n5', 'net-b')).join() === 'ep-4');
  });

  it('marks a killed node dead on every other node', async () => {
    await p('n5').kill9();
    for (const viewer of ['n1', 'n2', 'n3', 'n4']) await eventually(`${viewer} sees n5 dead`, async () => (await stateOf(viewer, 'n5')) === 'dead');
  });

  it('lets a node restarted after a partition catch up', async () => {
    const rest = ['n1', 'n2', 'n4'];
    await p('n3').request('block', { hosts: rest.map(addrOf).join(',') });
    for (const id of rest) await p(id).request('block', { hosts: addrOf('n3') });
    for (const viewer of rest) await eventually(`${viewer} sees n3 dead`, async () => (await stateOf(viewer, 'n3')) === 'dead');
    await p('n1').request('put', { network: 'net-a', table: 'endpoint_table', key: 'ep-during', value: 'x' });
    // n3's entry is withdrawn from the views while it is dead.
    await eventually('n1 hides ep-3', async () => !(await entryKeys('n1', 'net-a')).includes('ep-3'));
    // n3 restarts with empty state while the partition heals.
    await p('n3').kill9();
    for (const id of rest) await p(id).request('block', { hosts: '' });
    await spawnNode('n3', currentKeys).ready;
    await eventually('restarted n3 sees n1, n2 and n4 alive', async () => {
      const ms = await p('n3').members();
      return rest.every((id) => ms.find((m) => m.id === id)?.state === 'alive');
    });
    await eventually('n3 caught up on net-a', async () => (await entryKeys('n3', 'net-a')).join() === 'ep-1,ep-2,ep-during');
    for (const viewer of rest) await eventually(`${viewer} sees n3 alive again`, async () => (await stateOf(viewer, 'n3')) === 'alive');
    // The restarted n3 no longer has ep-3, so it withdraws its old copy everywhere.
    for (const id of ['n1', 'n2']) await eventually(`${id} has exactly n3's current view`, async () => (await entryKeys(id, 'net-a')).join() === 'ep-1,ep-2,ep-during');
  });

  it('shows a graceful leave as left, not dead', async () => {
    await p('n4').request('leave');
    for (const viewer of ['n1', 'n2', 'n3']) await eventually(`${viewer} sees n4 left`, async () => (await stateOf(viewer, 'n4')) === 'left');
  });
});
