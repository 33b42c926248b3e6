import { beforeAll, describe, expect, it } from 'vitest';
import { rootsPem, splitPemCertificates, trustBundleFromPem, type RootCa } from '../../../src/manager/ca/index.js';
import { makeNode, makeRoot, type TestNode } from './ca-fixtures.js';
import { codeOf } from '../../support/errors.js';

describe('trust bundles', () => {
  let a: RootCa;
  let b: RootCa;
  let leaf: TestNode;
  beforeAll(async () => {
    [a, b] = await Promise.all([makeRoot(), makeRoot()]);
    leaf = await makeNode({ root: a }, 'c1', 'n1', 'swarm-worker');
  });

  it('split a PEM bundle (CRLF or LF) into its certificates, in order', () => {
    const bundle = a.certPem.replace(/\r?\n/g, '\r\n') + b.certPem.replace(/\r/g, '');
    const parts = splitPemCertificates(bundle);
    expect(parts).toHaveLength(2);
    expect(parts[0]).not.toContain('\r');
    const parsed = trustBundleFromPem(bundle);
    expect(parsed.roots.map((c) => c.fingerprint256)).toEqual([a.cert.fingerprint256, b.cert.fingerprint256]);
    expect(splitPemCertificates(rootsPem(parsed))).toHaveLength(2);
  });

  it('refuse an empty bundle and a non-CA certificate as a root', () => {
    expect(codeOf(() => trustBundleFromPem(''))).toBe('CA_ROOT_INVALID');
    expect(codeOf(() => trustBundleFromPem(leaf.certPem))).toBe('CA_ROOT_INVALID');
    expect(codeOf(() => trustBundleFromPem(a.certPem, leaf.certPem))).toBe('CA_ROOT_INVALID');
  });
});
