import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/dataplane/model.js';
import { SignatureTracker } from '../../src/dataplane/signatures.js';
import { DESIRED_NODE1, mac } from './fixtures.js';

describe('SignatureTracker', () => {
  const extra = { network: 'neta', ip: '10.0.1.99', mac: mac(1, 99), vtep: '10.77.0.9' };

  it('gives a remote endpoint set a new version whenever it changes, also back to an earlier set', () => {
    const t = new SignatureTracker();
    const a = t.compute(DESIRED_NODE1);
    const same = t.compute({ ...DESIRED_NODE1, remotes: [...DESIRED_NODE1.remotes].reverse() }); // order does not matter
    expect(same.entries).toEqual(a.entries);
    const b = t.compute({ ...DESIRED_NODE1, remotes: [...DESIRED_NODE1.remotes, extra] });
    expect(b.entries.get('ov-neta')).not.toBe(a.entries.get('ov-neta'));
    expect(b.entries.get('ov-netb')).toBe(a.entries.get('ov-netb'));
    // Back to the first set: a new version (one more entries read), never a stale equal one.
    const c = t.compute(DESIRED_NODE1);
    expect(c.entries.get('ov-neta')).not.toBe(a.entries.get('ov-neta'));
    expect(c.entries.get('ov-neta')).not.toBe(b.entries.get('ov-neta'));
  });

  it('recomputes the structure when a sandbox or network is another object, with the same result for equal content', () => {
    const t = new SignatureTracker();
    const a = t.compute(DESIRED_NODE1);
    const copy: DesiredState = JSON.parse(JSON.stringify(DESIRED_NODE1)) as DesiredState;
    expect(t.compute(copy).structureKey).toBe(a.structureKey);
    const first = copy.sandboxes[0] ?? expect.fail('no sandbox');
    const moved = t.compute({ ...copy, sandboxes: [{ ...first, gateway: false }, ...copy.sandboxes.slice(1)] });
    expect(moved.structure.get(`sb-${first.id}`)).not.toBe(a.structure.get(`sb-${first.id}`));
    expect(moved.host).not.toBe(a.host);
    const adopted = t.compute({ ...copy, sandboxes: [{ ...first, netnsFrom: '/proc/1/ns/net' }, ...copy.sandboxes.slice(1)] });
    expect(adopted.structure.get(`sb-${first.id}`)).not.toBe(a.structure.get(`sb-${first.id}`));
  });
});
