/**
 * GossipNode in this process on real loopback sockets (127.46.3.x, ports picked by the OS):
 * the API's events and its errors. The multi-process behaviour is in processes.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { GossipNode, type GossipListener } from '../../src/gossip/index.js';
import { isTsswarmError } from '../../src/errors/index.js';
import { codeOf } from '../support/errors.js';
import { until } from '../support/wait.js';

const key = new Uint8Array(randomBytes(32));
const started: GossipNode[] = [];

async function start(host: string, seeds: string[] = []): Promise<GossipNode> {
  const n = await GossipNode.start({ nodeId: `node-${host}`, bindAddr: host, advertiseAddr: host, port: 0, keys: [key], seeds, profile: 'local' });
  started.push(n);
  return n;
}

async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isTsswarmError(err) ? err.code : `not a TsswarmError: ${String(err)}`;
  }
  return 'nothing thrown';
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

describe('GossipNode', () => {
  it('joins another node, shares an entry and reports create and delete events', async () => {
    const a = await start('127.46.3.1');
    const b = await start('127.46.3.2');
    const events: Parameters<GossipListener>[0][] = [];
    b.subscribe((e) => events.push(e));
    a.joinNetwork('net1');
    b.joinNetwork('net1');
    expect(await b.join([a.advertiseAddr])).toBe(1);
    await until(() => a.members().filter((m) => m.state === 'alive').length === 2, 'a sees b');
    a.table('net1', 'endpoint_table').put('ep', new Uint8Array([7]));
    await until(() => b.table('net1', 'endpoint_table').entries().length === 1, 'b has the entry');
    expect(a.table('net1', 'endpoint_table').delete('ep')).toBe(true);
    await until(() => b.table('net1', 'endpoint_table').entries().length === 0, 'b lost the entry');
    expect(events.filter((e) => e.kind === 'member').map((e) => e.kind === 'member' && e.member.id)).toContain('node-127.46.3.1');
    expect(events.filter((e) => e.kind === 'table').map((e) => e.kind === 'table' && e.action)).toEqual(['create', 'delete']);
  });

  it('refuses bad arguments, a taken port, unreachable seeds and use after stop with their codes', async () => {
    const a = await start('127.46.3.3');
    expect(codeOf(() => a.table('', 't'))).toBe('GOSSIP_INVALID_ARGUMENT');
    expect(codeOf(() => a.table('net1', 't').put('k', new Uint8Array(1)))).toBe('GOSSIP_NOT_IN_NETWORK');
    a.joinNetwork('net1');
    expect(codeOf(() => a.table('net1', 't').put('k', new Uint8Array(70_000)))).toBe('GOSSIP_INVALID_ARGUMENT');
    expect(codeOf(() => a.setKeys([new Uint8Array(16)]))).toBe('GOSSIP_INVALID_KEY');
    const port = Number(a.advertiseAddr.split(':')[1]);
    expect(await codeOfAsync(GossipNode.start({ nodeId: 'x', bindAddr: '127.46.3.3', advertiseAddr: '127.46.3.3', port, keys: [key], profile: 'local' }))).toBe('GOSSIP_BIND_FAILED');
    expect(await codeOfAsync(a.join(['127.46.3.4:1']))).toBe('GOSSIP_JOIN_FAILED');
    await a.stop();
    expect(codeOf(() => a.joinNetwork('net2'))).toBe('GOSSIP_STOPPED');
  });
});
