import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { arch, availableParallelism, totalmem } from 'node:os';
import type { Logger } from '../log/logger.js';
import {
  createJoinTokens, createNodeKeyAndCsr, createRootCa, issueNodeCertificate, parseCaConfig, rootCaToStored,
} from '../manager/ca/index.js';
import type { InitClusterRequest } from '../manager/controlapi/messages.js';
import { createIngressNetwork } from '../manager/controlapi/network-control.js';
import type { Cluster, DeepPartial, Node } from '../manager/store/index.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DataRootPaths } from './data-root.js';
import type { SwarmState } from './daemon-state.js';
import { validateInitOptions } from './init-options.js';
import { ManagerRuntime } from './manager-runtime.js';
import { newRandomId } from './random-id.js';

export interface InitContext {
  readonly nodeId: string;
  readonly hostname: string;
  readonly engineVersion: string;
  readonly paths: DataRootPaths;
  readonly logger: Logger;
  readonly onFatal: (err: unknown) => void;
  /** ms to wait for the one-member group to elect itself. */
  readonly electionTimeoutMs: number;
}

export interface InitResult {
  readonly runtime: ManagerRuntime;
  readonly swarm: SwarmState;
  readonly workerToken: string;
}

/** Docker's names for the architectures Node reports. */
function platformArch(): string {
  const a = arch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}

/**
 * `tsswarm init`: a root CA, this node's manager certificate, a one-member Raft group, and
 * the Cluster, Node and ingress Network objects committed through it in one transaction. Nothing is left behind on failure:
 * the Raft directory and certificates are removed again, and the caller records the swarm
 * in the daemon state only after this resolves (that write is the commit point).
 */
export async function initCluster(req: InitClusterRequest, ctx: InitContext): Promise<InitResult> {
  const opts = validateInitOptions(req);
  const now = new Date();
  const clusterId = newRandomId();
  const caConfig = parseCaConfig({ nodeCertLifetimeMs: opts.certExpiryMs });
  const [root, keyAndCsr] = await Promise.all([createRootCa(now, caConfig), createNodeKeyAndCsr(caConfig.nodeKeyBits)]);
  const issued = issueNodeCertificate({ ca: root, intermediatesPem: [] }, keyAndCsr.csrPem, { nodeId: ctx.nodeId, role: 'swarm-manager', clusterId }, now, caConfig);
  const tokens = createJoinTokens(root.cert);
  const { paths } = ctx;
  let runtime: ManagerRuntime | undefined;
  try {
    // A Raft directory without a recorded swarm is what a crash during an earlier init leaves.
    await rm(paths.raftDir, { recursive: true, force: true });
    await mkdir(paths.certDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(paths.rootCaCert, root.certPem, 0o644);
    await writeFileAtomic(paths.nodeCert, issued.chainPem, 0o644);
    await writeFileAtomic(paths.nodeKey, keyAndCsr.keyPem, 0o600);
    const advertiseHost = opts.advertiseAddr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
    runtime = await ManagerRuntime.start({
      self: {
        nodeId: ctx.nodeId, clusterId, hostname: ctx.hostname, engineVersion: ctx.engineVersion,
        nodeAddr: advertiseHost, dataPathAddr: opts.dataPathAddr, nodeCertNotAfterMs: issued.notAfter.getTime(),
      },
      listenAddr: opts.listenAddr,
      advertiseAddr: opts.advertiseAddr,
      raftDir: paths.raftDir,
      tls: { rootsPem: root.certPem, certChainPem: issued.chainPem, keyPem: keyAndCsr.keyPem },
      bootstrap: true,
      logger: ctx.logger,
      onFatal: ctx.onFatal,
    });
    await runtime.waitForLeader(ctx.electionTimeoutMs);
    const stored = rootCaToStored(root);
    const cluster: DeepPartial<Cluster> = {
      id: clusterId,
      spec: {
        annotations: { name: 'default', labels: {} },
        dispatcherHeartbeatPeriodMs: opts.dispatcherHeartbeatMs,
        nodeCertExpiryMs: opts.certExpiryMs,
        // Docker's defaults: 5 dead tasks kept per slot; Raft snapshots every 10,000 entries
        // keeping 500 behind (the RaftNode's own settings, recorded for `info`).
        taskHistoryRetentionLimit: 5,
        snapshotInterval: 10_000,
        logEntriesForSlowFollowers: 500,
        autolockManagers: false,
      },
      rootCa: {
        caCertPem: stored.certPem,
        caKeyPem: stored.keyPem,
        caCertDigest: createHash('sha256').update(root.cert.raw).digest('hex'),
      },
      joinTokens: { ...tokens },
      defaultAddressPools: opts.defaultAddrPools,
      subnetSize: opts.maskLength,
      dataPathPort: opts.dataPathPort,
    };
    const node: DeepPartial<Node> = {
      id: ctx.nodeId,
      spec: { annotations: { name: '', labels: {} }, desiredRole: 'MANAGER', availability: 'ACTIVE' },
      description: {
        hostname: ctx.hostname,
        platform: { architecture: platformArch(), os: process.platform },
        addresses: [advertiseHost],
        engineVersion: ctx.engineVersion,
        resources: { nanoCpus: availableParallelism() * 1e9, memoryBytes: totalmem() },
        engineLabels: {},
      },
      status: { state: 'READY', message: '', addr: advertiseHost },
      managerStatus: { raftId: ctx.nodeId, addr: opts.advertiseAddr, leader: true, reachability: 'REACHABLE' },
      certificate: { state: 'ISSUED', err: '', certPem: issued.certPem, csrPem: keyAndCsr.csrPem, cn: ctx.nodeId },
      role: 'MANAGER',
    };
    await runtime.store.update((tx) => {
      tx.create('cluster', cluster);
      tx.create('node', node);
      // Docker's swarm init makes the routing mesh's network at once (`network ls` shows it);
      // in this transaction it takes its subnet from the pools just recorded (10.0.0.0/24 by
      // default) and VNI 4096.
      createIngressNetwork(tx);
    });
    return {
      runtime,
      workerToken: tokens.worker,
      swarm: { clusterId, role: 'manager', listenAddr: opts.listenAddr, advertiseAddr: opts.advertiseAddr, dataPathAddr: opts.dataPathAddr },
    };
  } catch (err) {
    ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'init failed; undoing it');
    await runtime?.stop().catch(() => undefined);
    await rm(paths.raftDir, { recursive: true, force: true });
    await rm(paths.certDir, { recursive: true, force: true });
    throw err;
  }
}
