import { X509Certificate } from 'node:crypto';
import {
  createNodeKeyAndCsr, createRootCa, currentSigner, currentTrust, issueNodeCertificate, parseCaConfig, rootsPem,
  type CaConfig, type ClusterCa, type NodeRole, type NodeTlsMaterial, type RootCa,
} from '../../../src/manager/ca/index.js';

/** Fixed wall-clock time of the tests: nothing depends on the machine's clock. */
export const NOW = new Date('2026-06-01T12:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** 2048-bit roots keep the suites fast; production roots are 3072 bits (ca-config.ts). */
export const testConfig: CaConfig = parseCaConfig({ rootKeyBits: 2048 });

export interface TestNode {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly chainPem: string;
  readonly cert: X509Certificate;
}

export async function makeRoot(now: Date = NOW): Promise<RootCa> {
  return createRootCa(now, testConfig);
}

export async function makeNode(ca: ClusterCa, clusterId: string, nodeId: string, role: NodeRole, now: Date = NOW, config: CaConfig = testConfig): Promise<TestNode> {
  const { keyPem, csrPem } = await createNodeKeyAndCsr();
  const issued = issueNodeCertificate(currentSigner(ca), csrPem, { nodeId, role, clusterId }, now, config);
  return { nodeId, role, clusterId, keyPem, certPem: issued.certPem, chainPem: issued.chainPem, cert: new X509Certificate(issued.certPem) };
}

/** The TLS material a node would hand its certificate provider. */
export function materialOf(ca: ClusterCa, node: TestNode): NodeTlsMaterial {
  return { rootsPem: rootsPem(currentTrust(ca)), certChainPem: node.chainPem, keyPem: node.keyPem };
}

/** A PeerCertificateLike as grpc-js hands it to a server handler (leaf only). */
export function leafOnly(node: TestNode): { raw: Buffer } {
  return { raw: node.cert.raw };
}
