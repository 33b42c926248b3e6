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

  it('marks the host dirty for the ingress sandbox and its published ports, not for backends', () => {
    const t = new SignatureTracker();
    const [first, second] = DESIRED_NODE1.sandboxes as [DesiredState['sandboxes'][0], DesiredState['sandboxes'][0]];
    const ing = (backends: string[], published = 8080): DesiredState => ({
      ...DESIRED_NODE1,
      sandboxes: [
        { ...first, ingress: true, loadBalancers: [{ service: 's', backends, ports: [{ protocol: 'tcp', published, target: 80 }] }] },
        { ...second, loadBalancers: [{ service: 'v', vip: '10.0.2.100', backends }] },
      ],
    });
    const a = t.compute(ing(['10.0.1.3']));
    expect([...a.nftNs].sort()).toEqual(['sb-t1', 'sb-t2']);
    expect([...a.ingressNs]).toEqual(['sb-t1']);
    const b = t.compute(ing(['10.0.1.3', '10.0.1.4']));
    expect(b.host).toBe(a.host);
    expect(b.structure.get('sb-t1')).not.toBe(a.structure.get('sb-t1'));
    expect(b.structure.get('ov-neta')).toBe(a.structure.get('ov-neta'));
    expect(t.compute(ing(['10.0.1.3'], 9090)).host).not.toBe(a.host);
    expect(t.compute(DESIRED_NODE1).nftNs.size).toBe(0);
  });
});
