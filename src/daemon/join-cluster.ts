import { X509Certificate } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { ChannelCredentials } from '@grpc/grpc-js';
import { TsswarmError, isTsswarmError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import {
  MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createBootstrapChannelCredentials, createNodeChannelCredentials, createNodeKeyAndCsr,
  parseJoinToken, trustBundleFromPem, verifyRootAgainstToken, type NodeTlsMaterial,
} from '../manager/ca/index.js';
import { loadControlProto } from '../manager/controlapi/load-proto.js';
import type {
  GetRootCACertificateResponse, IssueNodeCertificateResponse, JoinClusterRequest, JoinRole, RaftJoinResponse,
} from '../manager/controlapi/messages.js';
import { callUnary } from '../manager/controlapi/node-ca.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DataRootPaths } from './data-root.js';
import type { SwarmState } from './daemon-state.js';
import { validateInitOptions } from './init-options.js';
import { ManagerRuntime } from './manager-runtime.js';

export interface JoinContext {
  readonly hostname: string;
  readonly engineVersion: string;
  readonly paths: DataRootPaths;
  readonly logger: Logger;
  readonly onFatal: (err: unknown) => void;
  /** ms to wait for the joined manager to see a leader and catch up. */
  readonly electionTimeoutMs: number;
}

export interface JoinResult {
  readonly nodeId: string;
  readonly role: JoinRole;
  readonly swarm: SwarmState;
  readonly runtime: ManagerRuntime | undefined;
}

/** ms each call to the remote manager may take (Join waits for the catch-up and promotion). */
const CALL_DEADLINE_MS = 15_000;
const JOIN_DEADLINE_MS = 45_000;

/** `host:port` of the remote manager; 2377 when no port is given. */
function remoteTarget(addr: string): string {
  const text = addr.trim();
  if (text === '') throw new TsswarmError('SWARM_INVALID_OPTION', { option: 'HOST:PORT', value: '""', reason: 'the address of a manager is required' });
  return /:\d+$/.test(text) ? text : `${text}:2377`;
}

/**
 * RaftMembership.Join on a manager with this node's manager certificate: the leader adds it
 * as a learner and promotes it once caught up. A follower answers RAFT_NOT_LEADER naming the
 * leader, which is asked next. Used by join and by a promoted worker.
 */
export async function joinRaftGroup(o: {
  target: string; clusterId: string; tls: Required<NodeTlsMaterial>; advertiseAddr: string; logger: Logger;
}): Promise<void> {
  const { MembershipClient } = loadControlProto();
  const provider = new MemoryCertificateProvider(o.tls);
  const trust = trustBundleFromPem(o.tls.rootsPem);
  const creds = createNodeChannelCredentials(provider, { clusterId: o.clusterId, trust: () => trust });
  let joinTarget = o.target;
  for (let attempt = 0; ; attempt++) {
    const client = new MembershipClient(joinTarget, creds, { ...NODE_CHANNEL_OPTIONS });
    try {
      const res = await callUnary<RaftJoinResponse>(client, 'Join', { addr: o.advertiseAddr }, JOIN_DEADLINE_MS, joinTarget);
      o.logger.info({ members: res.members.length }, 'joined the Raft group');
      return;
    } catch (err) {
      // A follower names the leader: join there (its view of us is the leader's to decide).
      const leaderAddr = isTsswarmError(err) && err.code === 'RAFT_NOT_LEADER' ? String(err.details.leaderAddr ?? '') : '';
      if (leaderAddr === '' || attempt >= 3) throw err;
      joinTarget = leaderAddr;
    } finally {
      client.close();
    }
  }
}

/**
 * `tsswarm join` (swarm.md §1): fetch the root CA over unverified TLS and check it against
 * the token's digest; make a key and CSR; have the manager issue the certificate (TLS now
 * verified against that root); store it. A manager then starts its RaftNode with an empty
 * log and asks the leader to add it (learner, promoted once caught up). Nothing is left
 * behind on failure; the caller's write of the daemon state is the commit point.
 */
export async function joinCluster(req: JoinClusterRequest, ctx: JoinContext): Promise<JoinResult> {
  parseJoinToken(req.token);
  const target = remoteTarget(req.remoteAddr);
  const opts = validateInitOptions({
    advertiseAddr: req.advertiseAddr, listenAddr: req.listenAddr, dataPathAddr: req.dataPathAddr, dataPathPort: 0, defaultAddrPools: [],
    defaultAddrPoolMaskLength: 0, dispatcherHeartbeat: '', certExpiry: '', forceNewCluster: false, autolock: false,
  });
  const { NodeCaClient } = loadControlProto();

  // 1. The root CA, over TLS that verifies nothing: trusted only once it matches the token.
  const bootstrap = new NodeCaClient(target, createBootstrapChannelCredentials(), {});
  let rootPem: string;
  try {
    rootPem = (await callUnary<GetRootCACertificateResponse>(bootstrap, 'GetRootCACertificate', {}, CALL_DEADLINE_MS, target)).certificate;
  } finally {
    bootstrap.close();
  }
  verifyRootAgainstToken(req.token, rootPem, target);

  // 2. Key, CSR and certificate, over TLS verified against that root.
  const keyAndCsr = await createNodeKeyAndCsr();
  const verified = new NodeCaClient(target, ChannelCredentials.createSsl(Buffer.from(rootPem), null, null, { checkServerIdentity: () => undefined }), {
    ...NODE_CHANNEL_OPTIONS,
  });
  let issued: IssueNodeCertificateResponse;
  try {
    issued = await callUnary<IssueNodeCertificateResponse>(verified, 'IssueNodeCertificate', {
      csr: keyAndCsr.csrPem, token: req.token, role: '', advertiseAddr: opts.advertiseAddr, hostname: ctx.hostname,
      dataPathAddr: opts.dataPathAddr, engineVersion: ctx.engineVersion,
    }, CALL_DEADLINE_MS, target);
  } finally {
    verified.close();
  }
  const cert = new X509Certificate(issued.certificateChain);
  if (!cert.verify(new X509Certificate(rootPem).publicKey)) {
    throw new TsswarmError('INTERNAL', { detail: 'the issued certificate is not signed by the cluster root' });
  }
  const role: JoinRole = issued.role === 'manager' ? 'manager' : 'worker';
  const { paths } = ctx;
  const advertiseHost = opts.advertiseAddr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
  const swarm: SwarmState = {
    clusterId: issued.clusterId, role, listenAddr: opts.listenAddr, advertiseAddr: role === 'manager' ? opts.advertiseAddr : advertiseHost,
    dataPathAddr: opts.dataPathAddr,
    managers: [...new Set([target, ...issued.managers.filter((m) => !m.learner && m.addr !== '').map((m) => m.addr)])],
  };
  let runtime: ManagerRuntime | undefined;
  try {
    await rm(paths.raftDir, { recursive: true, force: true });
    await mkdir(paths.certDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(paths.rootCaCert, rootPem, 0o644);
    await writeFileAtomic(paths.nodeCert, issued.certificateChain, 0o644);
    await writeFileAtomic(paths.nodeKey, keyAndCsr.keyPem, 0o600);
    if (role === 'worker') return { nodeId: issued.nodeId, role, swarm, runtime: undefined };

    // 3. A manager: an empty RaftNode first (so the leader can reach it), then Join.
    const tls = { rootsPem: rootPem, certChainPem: issued.certificateChain, keyPem: keyAndCsr.keyPem };
    runtime = await ManagerRuntime.start({
      self: {
        nodeId: issued.nodeId, clusterId: issued.clusterId, hostname: ctx.hostname, engineVersion: ctx.engineVersion,
        nodeAddr: advertiseHost, dataPathAddr: opts.dataPathAddr, nodeCertNotAfterMs: Date.parse(cert.validTo),
      },
      listenAddr: opts.listenAddr,
      advertiseAddr: opts.advertiseAddr,
      raftDir: paths.raftDir,
      tls,
      bootstrap: false,
      // So that it can answer the leader before the log tells it where the members are.
      peerHints: new Map(issued.managers.filter((m) => m.addr !== '').map((m) => [m.id, m.addr])),
      logger: ctx.logger,
      onFatal: ctx.onFatal,
    });
    await joinRaftGroup({ target, clusterId: issued.clusterId, tls, advertiseAddr: opts.advertiseAddr, logger: ctx.logger });
    await runtime.waitForLeader(ctx.electionTimeoutMs);
    return { nodeId: issued.nodeId, role, swarm, runtime };
  } catch (err) {
    ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'join failed; undoing it');
    await runtime?.stop().catch(() => undefined);
    await rm(paths.raftDir, { recursive: true, force: true });
    await rm(paths.certDir, { recursive: true, force: true });
    throw err;
  }
}
