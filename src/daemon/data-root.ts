import { join } from 'node:path';

/**
 * Where the daemon keeps its state under --data-root. One place for the layout, so restart,
 * init and (later) leave agree on it.
 */
export interface DataRootPaths {
  readonly root: string;
  /** Identity and swarm membership (daemon-state.ts). */
  readonly stateFile: string;
  /** PID of the daemon that holds this data root (pid-lock.ts). */
  readonly pidFile: string;
  readonly certDir: string;
  readonly rootCaCert: string;
  readonly nodeCert: string;
  readonly nodeKey: string;
  /** The RaftNode's WAL and snapshots (managers only). */
  readonly raftDir: string;
}

export function dataRootPaths(root: string): DataRootPaths {
  const certDir = join(root, 'certificates');
  return {
    root,
    stateFile: join(root, 'state.json'),
    pidFile: join(root, 'daemon.pid'),
    certDir,
    rootCaCert: join(certDir, 'swarm-root-ca.crt'),
    nodeCert: join(certDir, 'swarm-node.crt'),
    nodeKey: join(certDir, 'swarm-node.key'),
    raftDir: join(root, 'raft'),
  };
}
