import type { X509Certificate } from 'node:crypto';

/** The OU of a node certificate: the role the cluster gave the node. */
export type NodeRole = 'swarm-manager' | 'swarm-worker';
export const NODE_ROLES: readonly NodeRole[] = ['swarm-manager', 'swarm-worker'];

/** CN of every root CA certificate and the DNS SAN of every manager, as in Docker. */
export const CA_COMMON_NAME = 'swarm-ca';

/**
 * Node and cluster IDs are Docker's: 25 base-36 characters (swarmkit identity/randomid.go).
 * The pattern is looser (1-64 of [a-z0-9]) so tests and imported clusters can use readable
 * IDs; what matters for safety is that no ID can contain DN syntax (`,` `=` `+` newline).
 */
const ID_PATTERN = /^[a-z0-9]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function isNodeRole(value: string): value is NodeRole {
  return (NODE_ROLES as readonly string[]).includes(value);
}

/** Who a certificate says its holder is. */
export interface NodeIdentity {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string;
}

/**
 * Reads CN, OU and O from node:crypto's subject text ("CN=x\nOU=y\nO=z"). Returns undefined
 * unless each appears exactly once; values are checked by the caller.
 */
export function subjectFields(cert: X509Certificate): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq);
    if (fields.has(key)) return undefined;
    fields.set(key, line.slice(eq + 1));
  }
  return fields;
}

/** The identity in a node certificate, or a reason why it has none. */
export function readNodeIdentity(cert: X509Certificate): NodeIdentity | { problem: string } {
  const fields = subjectFields(cert);
  if (fields === undefined) return { problem: 'its subject is not CN, OU and O once each' };
  const nodeId = fields.get('CN') ?? '';
  const role = fields.get('OU') ?? '';
  const clusterId = fields.get('O') ?? '';
  if (!isValidId(nodeId)) return { problem: 'its CN is not a node ID' };
  if (!isNodeRole(role)) return { problem: `its OU is not ${NODE_ROLES.join(' or ')}` };
  if (!isValidId(clusterId)) return { problem: 'its O is not a cluster ID' };
  return { nodeId, role, clusterId };
}
