import { X509Certificate } from 'node:crypto';
import { TsswarmError, errorMessage } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import {
  MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, createNodeKeyAndCsr, readNodeIdentity, splitPemCertificates,
  trustBundleFromPem, type NodeTlsMaterial,
} from '../manager/ca/index.js';
import { loadControlProto } from '../manager/controlapi/load-proto.js';
import type { IssueNodeCertificateResponse } from '../manager/controlapi/messages.js';
import { callUnary } from '../manager/controlapi/node-ca.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DataRootPaths } from './data-root.js';

/** ms one renewal call may take (the manager signs and commits the Node through Raft). */
const RENEW_DEADLINE_MS = 15_000;

export interface RenewalRequest {
  readonly clusterId: string;
  /** host:port of managers to ask, in order; the first that answers issues. */
  readonly managers: readonly string[];
  /** What the node presents and trusts now. */
  readonly current: Required<NodeTlsMaterial>;
  /** Roots to trust from now on (new roots during a CA rotation); the current ones if absent. */
  readonly rootsPem?: string;
  readonly paths: DataRootPaths;
  readonly logger: Logger;
}

export interface RenewedCertificate {
  readonly material: Required<NodeTlsMaterial>;
  readonly role: 'manager' | 'worker';
  /** The Raft voters as the issuing manager knows them. */
  readonly members: ReadonlyArray<{ id: string; addr: string }>;
}

/**
 * Renews this node's certificate through NodeCA.RenewNodeCertificate, authenticated by the
 * certificate it holds: a new key and CSR, the certificate the store's role says, checked
 * against the roots, then written (certificate and key atomically; the key first, so a crash
 * between the two leaves a key no certificate uses yet, never a certificate without its key).
 */
export async function renewNodeCertificate(req: RenewalRequest): Promise<RenewedCertificate> {
  if (req.managers.length === 0) throw new TsswarmError('NODE_ROLE_CHANGE_FAILED', { nodeId: '(this node)', role: '?', reason: 'no manager address is known to renew the certificate with' });
  const rootsPem = req.rootsPem ?? req.current.rootsPem;
  // Trust old and new roots for the call itself: the manager may present either.
  const provider = new MemoryCertificateProvider(req.current);
  const trust = trustBundleFromPem(`${req.current.rootsPem}\n${rootsPem}`);
  const credentials = createNodeChannelCredentials(provider, { clusterId: req.clusterId, trust: () => trust });
  const keyAndCsr = await createNodeKeyAndCsr();
  const { NodeCaClient } = loadControlProto();
  let lastErr: unknown;
  for (const target of req.managers) {
    const client = new NodeCaClient(target, credentials, { ...NODE_CHANNEL_OPTIONS });
    try {
      const res = await callUnary<IssueNodeCertificateResponse>(client, 'RenewNodeCertificate', { csr: keyAndCsr.csrPem }, RENEW_DEADLINE_MS, target);
      const leaf = new X509Certificate(res.certificateChain);
      const roots = splitPemCertificates(rootsPem).map((pem) => new X509Certificate(pem));
      const intermediates = splitPemCertificates(res.certificateChain).slice(1).map((pem) => new X509Certificate(pem));
      const issuers = [...roots, ...intermediates];
      if (!issuers.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
        throw new TsswarmError('INTERNAL', { detail: 'the renewed certificate is not signed by a trusted root' });
      }
      const identity = readNodeIdentity(leaf);
      if ('problem' in identity) throw new TsswarmError('INTERNAL', { detail: `the renewed certificate is malformed: ${identity.problem}` });
      await writeFileAtomic(req.paths.nodeKey, keyAndCsr.keyPem, 0o600);
      await writeFileAtomic(req.paths.nodeCert, res.certificateChain, 0o644);
      if (rootsPem !== req.current.rootsPem) await writeFileAtomic(req.paths.rootCaCert, rootsPem, 0o644);
      req.logger.info({ manager: target, role: identity.role, notAfter: leaf.validTo }, 'node certificate renewed');
      return {
        material: { rootsPem, certChainPem: res.certificateChain, keyPem: keyAndCsr.keyPem },
        role: identity.role === 'swarm-manager' ? 'manager' : 'worker',
        members: res.managers.filter((m) => !m.learner && m.addr !== '').map((m) => ({ id: m.id, addr: m.addr })),
      };
    } catch (err) {
      lastErr = err;
      req.logger.warn({ manager: target, err: errorMessage(err) }, 'certificate renewal failed on this manager');
    } finally {
      client.close();
    }
  }
  throw lastErr;
}
