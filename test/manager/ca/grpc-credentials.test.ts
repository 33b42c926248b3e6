import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { MemoryCertificateProvider, createNodeChannelCredentials } from '../../../src/manager/ca/index.js';

describe('client credentials for 2377', () => {
  const original = tls.DEFAULT_MIN_VERSION;
  afterEach(() => {
    tls.DEFAULT_MIN_VERSION = original;
  });

  it('refuse to run when the process allows TLS below 1.2', () => {
    const make = () => createNodeChannelCredentials(new MemoryCertificateProvider(), { clusterId: 'c1', trust: () => ({ roots: [], intermediates: [] }) });
    expect(make()._isSecure()).toBe(true);
    tls.DEFAULT_MIN_VERSION = 'TLSv1';
    let code = 'nothing thrown';
    try {
      make();
    } catch (err) {
      code = isTsswarmError(err) ? err.code : String(err);
    }
    expect(code).toBe('INTERNAL');
  });
});

describe('MemoryCertificateProvider', () => {
  it('answers new listeners at once and tells them of every update', () => {
    const provider = new MemoryCertificateProvider();
    const seen: string[] = [];
    provider.addIdentityCertificateListener((u) => seen.push(u === null ? 'none' : String(u.certificate)));
    provider.addCaCertificateListener((u) => seen.push(u === null ? 'no ca' : `ca:${String(u.caCertificate)}`));
    expect(seen).toEqual([]); // nothing to tell yet
    provider.update({ rootsPem: 'R1' });
    expect(seen).toEqual(['ca:R1', 'none']);
    provider.update({ rootsPem: 'R2', certChainPem: 'C', keyPem: 'K' });
    expect(seen.slice(2)).toEqual(['ca:R2', 'C']);
    const late: string[] = [];
    provider.addCaCertificateListener((u) => late.push(String(u?.caCertificate)));
    expect(late).toEqual(['R2']);
  });
});
