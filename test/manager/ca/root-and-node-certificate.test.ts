import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import {
  createNodeKeyAndCsr, issueNodeCertificate, parseCaConfig, readNodeIdentity, rootCaFromStored, rootCaToStored,
  type ClusterCa,
} from '../../../src/manager/ca/index.js';
import { signCsr } from '../../../src/manager/ca/forge-native.js';
import { DAY, HOUR, NOW, makeNode, makeRoot, testConfig } from './ca-fixtures.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(isTsswarmError(err) ? err.code : err).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** A CSR made by hand, for the cases createNodeKeyAndCsr never produces. */
function handMadeCsr(bits: number, subject: forge.pki.CertificateField[]): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject(subject);
  signCsr(csr, privateKey);
  return forge.pki.certificationRequestToPem(csr);
}

describe('root CA', () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = { root: await makeRoot() };
  });

  it('is a self-signed CA named swarm-ca, valid 20 years from an hour ago', () => {
    const cert = ca.root.cert;
    expect(cert.subject).toBe('CN=swarm-ca');
    expect(cert.issuer).toBe('CN=swarm-ca');
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Date.parse(cert.validFrom)).toBe(NOW.getTime() - HOUR);
    expect(Date.parse(cert.validTo)).toBe(NOW.getTime() + 20 * 365 * DAY);
  });

  it('survives a round trip through its stored PEM form', () => {
    const loaded = rootCaFromStored(rootCaToStored(ca.root));
    expect(loaded.cert.fingerprint256).toBe(ca.root.cert.fingerprint256);
    expect(loaded.cert.checkPrivateKey(loaded.key)).toBe(true);
  });

  it('refuses a stored root whose key is not its own, or that does not parse', async () => {
    const other = await makeRoot();
    expectCode(() => rootCaFromStored({ certPem: ca.root.certPem, keyPem: rootCaToStored(other).keyPem }), 'CA_ROOT_INVALID');
    expectCode(() => rootCaFromStored({ certPem: 'nope', keyPem: 'nope' }), 'CA_ROOT_INVALID');
  });
});

describe('node certificates', () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = { root: await makeRoot() };
  });

  it('carry CN = node ID, OU = role, O = cluster ID, the manager SANs, both TLS usages, 90 days', async () => {
    const node = await makeNode(ca, 'cluster1', 'node1', 'swarm-manager');
    const cert = new X509Certificate(node.certPem);
    expect(cert.subject).toBe('CN=node1\nOU=swarm-manager\nO=cluster1');
    expect(readNodeIdentity(cert)).toEqual({ nodeId: 'node1', role: 'swarm-manager', clusterId: 'cluster1' });
    expect(cert.subjectAltName).toBe('DNS:swarm-manager, DNS:node1, DNS:swarm-ca');
    expect(cert.keyUsage).toEqual(expect.arrayContaining([SERVER_AUTH, CLIENT_AUTH]));
    expect(cert.ca).toBe(false);
    expect(Date.parse(cert.validFrom)).toBe(NOW.getTime() - HOUR);
    expect(Date.parse(cert.validTo)).toBe(NOW.getTime() + 90 * DAY);
    expect(cert.checkIssued(ca.root.cert) && cert.verify(ca.root.cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(node.keyPem))).toBe(true);
  });

  it('give workers no swarm-ca name', async () => {
    const node = await makeNode(ca, 'cluster1', 'node2', 'swarm-worker');
    expect(node.cert.subjectAltName).toBe('DNS:swarm-worker, DNS:node2');
    expect(node.cert.subject).toContain('OU=swarm-worker');
  });

  it('use the configured lifetime, and the config refuses less than one hour', async () => {
    const config = parseCaConfig({ nodeCertLifetimeMs: 2 * HOUR });
    const node = await makeNode(ca, 'cluster1', 'node3', 'swarm-worker', NOW, config);
    expect(Date.parse(node.cert.validTo) - Date.parse(node.cert.validFrom)).toBe(3 * HOUR);
    expectCode(() => parseCaConfig({ nodeCertLifetimeMs: HOUR - 1 }), 'CONFIG_INVALID');
  });

  it('take only the public key from the CSR, never its subject', () => {
    const csrPem = handMadeCsr(2048, [
      { shortName: 'CN', value: 'evil' },
      { shortName: 'OU', value: 'swarm-manager' },
      { shortName: 'O', value: 'other-cluster' },
    ]);
    const issued = issueNodeCertificate({ ca: ca.root, intermediatesPem: [] }, csrPem, { nodeId: 'node4', role: 'swarm-worker', clusterId: 'cluster1' }, NOW, testConfig);
    expect(new X509Certificate(issued.certPem).subject).toBe('CN=node4\nOU=swarm-worker\nO=cluster1');
  });

  it('are refused for malformed, forged or weak CSRs', async () => {
    const signer = { ca: ca.root, intermediatesPem: [] };
    const id = { nodeId: 'node5', role: 'swarm-worker' as const, clusterId: 'cluster1' };
    expectCode(() => issueNodeCertificate(signer, 'not a csr', id, NOW), 'CA_CSR_INVALID');
    // A valid request whose public key was swapped: the self-signature no longer verifies.
    const { csrPem } = await createNodeKeyAndCsr();
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    csr.publicKey = forge.pki.certificationRequestFromPem(handMadeCsr(2048, [])).publicKey;
    csr.certificationRequestInfo = null; // re-encode with the swapped key, keep the old signature
    const forged = forge.pki.certificationRequestToPem(csr);
    expectCode(() => issueNodeCertificate(signer, forged, id, NOW), 'CA_CSR_INVALID');
    expectCode(() => issueNodeCertificate(signer, handMadeCsr(1024, []), id, NOW), 'CA_CSR_INVALID');
  });

  it('are refused for a CSR with an ECDSA key (this CA signs RSA keys only)', () => {
    // openssl writes the request to stdout and the key to /dev/null: no files to clean up.
    const csrPem = execFileSync('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    const id = { nodeId: 'node6', role: 'swarm-worker' as const, clusterId: 'cluster1' };
    expectCode(() => issueNodeCertificate({ ca: ca.root, intermediatesPem: [] }, csrPem, id, NOW), 'CA_CSR_INVALID');
  });
});
