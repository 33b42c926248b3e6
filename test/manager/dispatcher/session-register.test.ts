import { afterEach, describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Dispatcher, type SessionMessage } from '../../../src/manager/dispatcher/index.js';
import { MemoryStore, type Proposer } from '../../../src/manager/store/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { seededRng } from '../../../src/util/rng.js';

/**
 * Opening a session writes the node's Node (description, READY). The allocation pass writes a
 * node that just joined (its ingress address) at about the same moment; the session's write,
 * staged before that one applied, conflicts, and is redone rather than failing the session.
 */

/** A one-member log whose proposals wait until the gate opens, then apply in order. */
class GatedProposer implements Proposer {
  private index = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly store: MemoryStore) {}

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async propose(data: Uint8Array): Promise<{ index: number }> {
    if (this.gate !== undefined) await this.gate;
    this.index++;
    this.store.apply(this.index, data);
    return { index: this.index };
  }

  async readIndex(): Promise<number> {
    return this.index;
  }
}

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('the session\'s Node write', () => {
  it('is redone when another writer changed the Node meanwhile, and the session opens', async () => {
    const store = new MemoryStore();
    const log = new GatedProposer(store);
    store.attach(log);
    await store.update((tx) => {
      tx.create('cluster', { id: 'c1', spec: { annotations: { name: 'default' }, dispatcherHeartbeatPeriodMs: 1000 } });
      tx.create('node', { id: 'w1', role: 'WORKER', spec: { annotations: { name: '' }, desiredRole: 'WORKER', availability: 'ACTIVE' }, status: { state: 'DOWN' } });
    });
    const dispatcher = new Dispatcher({ store, managers: () => [], clock: systemClock, rng: seededRng(1), logger: silentLogger(), config: { expiryCheckMs: 50 } });
    await dispatcher.start();
    stops.push(() => dispatcher.stop(new TsswarmError('DISPATCHER_SESSION_INVALID', { sessionId: '(test)', nodeId: 'w1', reason: 'the test ended' })));

    log.close();
    // The allocation pass's write of w1, staged first.
    const allocation = store.update((tx) => {
      const node = tx.get('node', 'w1')!;
      tx.update('node', { ...node, attachments: [{ networkId: 'ing', addresses: ['10.0.0.3/24'], aliases: [] }] });
    });
    const messages: SessionMessage[] = [];
    const opened = dispatcher.openSession('w1', { description: { hostname: 'w1' }, advertiseAddr: '10.9.9.9' }, '127.0.0.1', {
      send: (m) => messages.push(m),
      end: () => undefined,
    });
    log.open();
    await allocation;
    stops.push(await opened);

    const node = store.view((tx) => tx.get('node', 'w1'))!;
    expect(node.status).toMatchObject({ state: 'READY', addr: '10.9.9.9' });
    expect(node.description?.hostname).toBe('w1');
    expect(node.attachments.map((a) => a.addresses)).toEqual([['10.0.0.3/24']]);
    expect(messages.at(-1)!.nodeAttachments.map((a) => a.addresses)).toEqual([['10.0.0.3/24']]);
  });
});
