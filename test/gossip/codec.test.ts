import { describe, expect, it } from 'vitest';
import { decodePacket, decodeStreamFrame, encodeMessage, encodePacket, encodeStreamFrame, packetOverhead } from '../../src/gossip/wire/codec.js';
import { MAX_STRING_BYTES, WIRE_VERSION } from '../../src/gossip/wire/limits.js';
import type { GossipMessage } from '../../src/gossip/wire/messages.js';
import { codeOf } from '../support/errors.js';

const samples: GossipMessage[] = [
  { type: 'Ping', seq: 7, target: 'b', source: 'a', sourceAddr: '10.0.0.1:7946' },
  { type: 'IndirectPing', seq: 4294967295, target: 'c', targetAddr: '10.0.0.3:7946', source: 'a', sourceAddr: '10.0.0.1:7946' },
  { type: 'Ack', seq: 1 },
  { type: 'Nack', seq: 2 },
  { type: 'Alive', node: 'nödé', addr: '10.0.0.2:7946', incarnation: 3 },
  { type: 'Suspect', node: 'b', incarnation: 3, from: 'a' },
  { type: 'Dead', node: 'b', incarnation: 4, from: 'b' },
  { type: 'NetworkEvent', node: 'b', network: 'net1', lamport: 2 ** 40 + 5, joined: true },
  { type: 'TableEvent', network: 'net1', table: 'endpoint_table', key: 'k', owner: 'b', lamport: 9, deleted: false, value: new Uint8Array([1, 2, 3]) },
  { type: 'StreamPing', seq: 9, target: 'b', source: 'a', sourceAddr: '10.0.0.1:7946' },
  {
    type: 'PushPull', reply: true, join: false, from: 'a',
    members: [{ node: 'a', addr: '10.0.0.1:7946', incarnation: 1, state: 'alive' }, { node: 'b', addr: '10.0.0.2:7946', incarnation: 2, state: 'left' }],
    networks: [{ node: 'a', network: 'n', lamport: 3, joined: false }],
  },
  { type: 'BulkSync', reply: false, network: 'n', from: 'a', entries: [{ type: 'TableEvent', network: 'n', table: 't', key: 'k', owner: 'a', lamport: 1, deleted: true, value: new Uint8Array() }] },
];

describe('gossip wire codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s in a packet and in a stream frame', (_, m) => {
    expect(decodePacket(encodePacket([encodeMessage(m)]))).toEqual([m]);
    expect(decodeStreamFrame(encodeStreamFrame(m))).toEqual(m);
  });

  it('packs several messages into one compound packet of the predicted size', () => {
    const enc = samples.slice(0, 5).map(encodeMessage);
    const packet = encodePacket(enc);
    expect(packet.length).toBe(enc.reduce((s, e) => s + e.length, 0) + packetOverhead(enc.length));
    expect(decodePacket(packet)).toEqual(samples.slice(0, 5));
  });

  it.each([
    ['empty input', new Uint8Array()],
    ['a newer wire version', new Uint8Array([WIRE_VERSION + 1, 1, 0, 5, 3, 0, 0, 0, 1])],
    ['a truncated message', new Uint8Array([WIRE_VERSION, 1, 0, 5, 3, 0, 0])],
    ['an unknown message type', new Uint8Array([WIRE_VERSION, 1, 0, 1, 200])],
    ['trailing bytes', new Uint8Array([WIRE_VERSION, 1, 0, 5, 3, 0, 0, 0, 1, 9])],
    ['a zero message count', new Uint8Array([WIRE_VERSION, 0])],
  ])('refuses %s with GOSSIP_MALFORMED_MESSAGE', (_, bytes) => {
    expect(codeOf(() => decodePacket(bytes))).toBe('GOSSIP_MALFORMED_MESSAGE');
  });

  it('refuses to encode strings over the named limit', () => {
    const long = 'x'.repeat(MAX_STRING_BYTES + 1);
    expect(codeOf(() => encodeMessage({ type: 'Alive', node: long, addr: 'a', incarnation: 0 }))).toBe('GOSSIP_MALFORMED_MESSAGE');
  });
});
