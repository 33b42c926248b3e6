import type { Network } from '../objects/index.js';
import type { LocalNetworkView } from './local-network-view.js';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname as osHostname } from 'node:os';
import type { Server } from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../errors/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { controlServiceImplementation } from '../manager/controlapi/control-service.js';
import { loadControlProto } from '../manager/controlapi/load-proto.js';
import type {
  InitClusterRequest, InitClusterResponse, JoinClusterRequest, JoinClusterResponse, LeaveClusterRequest, LeaveClusterResponse,
} from '../manager/controlapi/messages.js';
import { objectKinds, type Cluster, type Node } from '../objects/index.js';
import type { NodeTlsMaterial } from '../manager/ca/index.js';
import { systemRng, type Rng } from '../util/rng.js';
import { dataRootPaths, type DataRootPaths } from './data-root.js';
import { readDaemonState, writeDaemonState, type DaemonState, type SwarmState } from './daemon-state.js';
import { initCluster } from './init-cluster.js';
import { joinCluster, joinRaftGroup } from './join-cluster.js';
import { everyNodeOnNewRoot, finishRootRotation, rotationInProgress, sameCertificates, trustedRootsBundle } from '../manager/controlapi/ca-rotation.js';
import { leaveRefusal, planRenewal, renewalDelay, roleAction, type RenewalPlan } from './role-watch.js';
import { renewNodeCertificate, type RenewedCertificate } from './renew-certificate.js';
import { LocalControl, type LocalDaemon } from './local-control.js';
import { serveLocalSocket } from './local-socket.js';
import { ManagerRuntime } from './manager-runtime.js';
import { createNodeExecutor, type NodeTasks } from './node-executor.js';
import { NodeSession } from './node-session.js';
import { NodeGossip, type NodeGossipInfo } from './node-gossip.js';
import { acquirePidLock } from './pid-lock.js';
import { newRandomId } from './random-id.js';

export interface DaemonOptions {
  readonly dataRoot: string;
  /** Path of the local API's unix socket. */
  readonly socketPath: string;
  /** Hostname recorded for this node; the machine's by default. */
  readonly nodeName?: string;
  readonly engineVersion: string;
  /**
   * Where the daemon keeps what lives only while the host is up: the network namespaces of
   * its tasks and overlays (nsfs bind mounts). Docker's --exec-root; default /run/tsswarm.
   * Several daemons on one machine (test beds) each need their own.
   */
  readonly execRoot?: string;
  /** The runtime of tasks whose spec names none (`--default-runtime`). */
  readonly defaultRuntime?: 'process' | 'docker';
  readonly logger: Logger;
  /** Called once the daemon stopped itself after a fatal error (the caller exits non-zero). */
  readonly onFatal: (err: unknown) => void;
  /** Picks each certificate's renewal point (50-80% of its life); systemRng by default. */
  readonly rng?: Rng;
}

/**
 * ms a one-member Raft group may take to elect itself at init or restart. Its election
 * timeout is 1-2 s; 15 s leaves room for a slow fsync on a loaded machine.
 */
const ELECTION_WAIT_MS = 15_000;
/** ms between looks at the local Raft member for a demotion: well under a second of lag. */
const ROLE_POLL_MS = 250;
/** ms a promoted or demoted node keeps asking until the managers issue the new role. */
const ROLE_RENEW_WAIT_MS = 30_000;
/** ms before a failed periodic renewal is tried again (the certificate has weeks left). */
const RENEW_RETRY_MS = 60_000;

function hostOf(addr: string): string {
  return addr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
}

/**
 * The tsswarm daemon of one host: the composition root. It owns the data root (identity,
 * certificates, Raft log), the local API socket and, on a manager, the ManagerRuntime.
 * start() brings back whatever the data root says this node was; stop() undoes start().
 */
export class Daemon implements LocalDaemon {
  private managerRuntime: ManagerRuntime | undefined;
  private nodeSession: NodeSession | undefined;
  /** Gossip on 7946, started with the session (it waits for the session's keys). */
  private nodeGossip: NodeGossip | undefined;
  /** Runs the tasks the managers assign here; its tasks outlive the daemon (adopted at start). */
  /**
   * The executor (its tasks outlive the daemon and are adopted at start) and the node networks
   * (the tasks' overlay endpoints in gossip, the peers' in the dataplane).
   */
  private nodeTasks: NodeTasks | undefined;
  private initializing = false;
  /** A leave, promotion, demotion or renewal in progress: one at a time. */
  private transition: Promise<void> | undefined;
  private roleTimer: NodeJS.Timeout | undefined;
  private renewalTimer: NodeJS.Timeout | undefined;
  private renewalPlan: RenewalPlan | undefined;
  /** Other managers' host:port, as this node last saw them (a demoted manager renews there). */
  private knownManagers: string[] = [];
  private stopping = false;
  private server: Server | undefined;
  private releaseLock: (() => Promise<void>) | undefined;
  private readonly log: Logger;

  private constructor(
    private readonly opts: DaemonOptions,
    private readonly paths: DataRootPaths,
    private state: DaemonState,
    readonly hostname: string,
  ) {
    this.log = componentLogger(opts.logger, 'daemon', { nodeId: state.nodeId });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const paths = dataRootPaths(opts.dataRoot);
    await mkdir(paths.root, { recursive: true, mode: 0o700 });
    const release = await acquirePidLock(paths.pidFile, paths.root);
    let daemon: Daemon | undefined;
    try {
      let state = await readDaemonState(paths.stateFile);
      if (state === undefined) {
        state = { version: 1, nodeId: newRandomId() };
        await writeDaemonState(paths.stateFile, state);
      }
      daemon = new Daemon(opts, paths, state, opts.nodeName ?? osHostname());
      daemon.releaseLock = release;
      if (state.swarm?.role === 'manager') await daemon.restartManager();
      await daemon.startSession();
      daemon.startNodeLifecycle();
      const { controlService } = loadControlProto();
      daemon.server = await serveLocalSocket(opts.socketPath, [
        { definition: controlService, implementation: controlServiceImplementation(new LocalControl(daemon), componentLogger(opts.logger, 'local-api')) },
      ]);
      daemon.log.info({ socket: opts.socketPath, dataRoot: paths.root, swarm: state.swarm?.clusterId ?? 'inactive' }, 'daemon running');
      return daemon;
    } catch (err) {
      if (daemon !== undefined) await daemon.stop();
      else await release();
      throw err;
    }
  }

  get nodeId(): string {
    return this.state.nodeId;
  }

  get engineVersion(): string {
    return this.opts.engineVersion;
  }

  manager(): ManagerRuntime | undefined {
    return this.managerRuntime;
  }

  clusterId(): string | undefined {
    return this.state.swarm?.clusterId;
  }

  swarm(): SwarmState | undefined {
    return this.state.swarm;
  }

  /**
   * `tsswarm join`; SWARM_ALREADY_INITIALIZED if in a swarm or an init/join is running. The
   * manager assigns the node ID, so the state takes the new ID and the swarm in one write.
   */
  async join(req: JoinClusterRequest): Promise<JoinClusterResponse> {
    if (this.state.swarm !== undefined || this.initializing) {
      throw new TsswarmError('SWARM_ALREADY_INITIALIZED', { clusterId: this.state.swarm?.clusterId ?? '(being initialized)' });
    }
    this.initializing = true;
    try {
      const result = await joinCluster(req, {
        hostname: this.hostname, engineVersion: this.opts.engineVersion, paths: this.paths, logger: this.opts.logger,
        onFatal: (err) => this.fatal(err), electionTimeoutMs: ELECTION_WAIT_MS,
      });
      const next: DaemonState = { ...this.state, nodeId: result.nodeId, swarm: result.swarm };
      try {
        await writeDaemonState(this.paths.stateFile, next);
      } catch (err) {
        await result.runtime?.stop().catch(() => undefined);
        await rm(this.paths.raftDir, { recursive: true, force: true });
        await rm(this.paths.certDir, { recursive: true, force: true });
        throw err;
      }
      this.state = next;
      this.managerRuntime = result.runtime;
      await this.startSession(req.remoteAddr);
      this.startNodeLifecycle();
      this.log.info({ nodeId: result.nodeId, clusterId: result.swarm.clusterId, role: result.role }, 'joined the swarm');
      return { nodeId: result.nodeId, clusterId: result.swarm.clusterId, role: result.role };
    } finally {
      this.initializing = false;
    }
  }

  /** `tsswarm init`; SWARM_ALREADY_INITIALIZED if in a swarm or an init is running. */
  async init(req: InitClusterRequest): Promise<InitClusterResponse> {
    if (req.forceNewCluster && this.state.swarm?.role === 'manager' && this.managerRuntime !== undefined && !this.initializing) {
      return this.forceNewCluster();
    }
    if (this.state.swarm !== undefined || this.initializing) {
      throw new TsswarmError('SWARM_ALREADY_INITIALIZED', { clusterId: this.state.swarm?.clusterId ?? '(being initialized)' });
    }
    this.initializing = true;
    try {
      const result = await initCluster(req, {
        nodeId: this.state.nodeId, hostname: this.hostname, engineVersion: this.opts.engineVersion, paths: this.paths,
        logger: this.opts.logger, onFatal: (err) => this.fatal(err), electionTimeoutMs: ELECTION_WAIT_MS,
      });
      const next: DaemonState = { ...this.state, swarm: result.swarm };
      try {
        await writeDaemonState(this.paths.stateFile, next);
      } catch (err) {
        await result.runtime.stop().catch(() => undefined);
        await rm(this.paths.raftDir, { recursive: true, force: true });
        await rm(this.paths.certDir, { recursive: true, force: true });
        throw err;
      }
      this.state = next;
      this.managerRuntime = result.runtime;
      await this.startSession();
      this.startNodeLifecycle();
      this.log.info({ clusterId: result.swarm.clusterId, listen: result.swarm.listenAddr }, 'swarm initialized');
      return { nodeId: this.state.nodeId, clusterId: result.swarm.clusterId, workerToken: result.workerToken, managerAddr: result.swarm.advertiseAddr };
    } finally {
      this.initializing = false;
    }
  }

  /**
   * `init --force-new-cluster` on a manager (swarm.md: recovery from a lost quorum): the
   * objects this manager holds become the state of a new one-member Raft group on the same
   * address, with the same cluster, certificates and tokens. The old Raft log is set aside
   * until the new group holds everything, and put back if anything fails. The other managers
   * stay listed (Unreachable) until they are removed, or leave and join again.
   */
  private async forceNewCluster(): Promise<InitClusterResponse> {
    this.initializing = true;
    try {
      await this.transition;
      const old = this.managerRuntime!;
      const objects = old.store.view((tx) => objectKinds.map((kind) => ({ kind, items: tx.list(kind) })));
      const cluster = objects.find((o) => o.kind === 'cluster')?.items[0] as Cluster | undefined;
      if (cluster === undefined) throw new TsswarmError('DAEMON_STATE_INVALID', { path: this.paths.raftDir, reason: 'the local store holds no Cluster object to recover' });
      this.managerRuntime = undefined;
      await old.stop();
      const setAside = `${this.paths.raftDir}.before-force-new-cluster`;
      await rm(setAside, { recursive: true, force: true });
      await rename(this.paths.raftDir, setAside);
      try {
        await this.restartManager(true);
        await this.managerRuntime!.waitForLeader(ELECTION_WAIT_MS);
        await this.managerRuntime!.store.batch((tx) => {
          for (const { kind, items } of objects) for (const item of items) tx.create(kind, item);
        });
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'force-new-cluster failed; putting the old Raft log back');
        const failed = this.managerRuntime as ManagerRuntime | undefined;
        this.managerRuntime = undefined;
        await failed?.stop().catch(() => undefined);
        await rm(this.paths.raftDir, { recursive: true, force: true });
        await rename(setAside, this.paths.raftDir);
        await this.restartManager(false);
        throw err;
      }
      await rm(setAside, { recursive: true, force: true });
      const swarm = this.state.swarm!;
      this.log.warn({ clusterId: swarm.clusterId, objects: objects.reduce((n, o) => n + o.items.length, 0) }, 'forced a new one-manager cluster from the local state');
      return { nodeId: this.state.nodeId, clusterId: swarm.clusterId, workerToken: cluster.joinTokens?.worker ?? '', managerAddr: swarm.advertiseAddr };
    } finally {
      this.initializing = false;
    }
  }

  /** Restarts the manager recorded in the data root: same certificates, same Raft log. */
  private async restartManager(bootstrap = false): Promise<void> {
    const swarm = this.state.swarm!;
    const read = async (path: string): Promise<string> => {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        throw new TsswarmError('DAEMON_STATE_INVALID', { path, reason: errorMessage(err) }, { cause: err });
      }
    };
    const [rootsPem, certChainPem, keyPem] = await Promise.all([read(this.paths.rootCaCert), read(this.paths.nodeCert), read(this.paths.nodeKey)]);
    const notAfter = Date.parse(new X509Certificate(certChainPem).validTo);
    this.managerRuntime = await ManagerRuntime.start({
      self: {
        nodeId: this.state.nodeId, clusterId: swarm.clusterId, hostname: this.hostname, engineVersion: this.opts.engineVersion,
        nodeAddr: swarm.advertiseAddr.replace(/^\[?(.*?)\]?:\d+$/, '$1'), dataPathAddr: swarm.dataPathAddr, nodeCertNotAfterMs: notAfter,
      },
      listenAddr: swarm.listenAddr,
      advertiseAddr: swarm.advertiseAddr,
      raftDir: this.paths.raftDir,
      tls: { rootsPem, certChainPem, keyPem },
      bootstrap,
      logger: this.opts.logger,
      onFatal: (err) => this.fatal(err),
    });
    this.log.info({ clusterId: swarm.clusterId, listen: swarm.listenAddr }, 'manager restarted from the data root');
  }

  // ---- the node's own life in the swarm: leave, promote/demote, certificate renewal --------

  /**
   * `tsswarm leave`. A worker leaves at once. A manager is refused without --force (Docker's
   * rule); with it, it first leaves Raft through the leader when the rest keep a quorum,
   * and otherwise just goes. Then the session and manager stop and the swarm state,
   * certificates and Raft log are wiped: the node is "inactive" again, same daemon.
   */
  async leave(req: LeaveClusterRequest): Promise<LeaveClusterResponse> {
    const swarm = this.state.swarm;
    if (swarm === undefined) throw new TsswarmError('SWARM_NOT_INITIALIZED', { operation: 'leave' });
    if (this.initializing) throw new TsswarmError('SWARM_ALREADY_INITIALIZED', { clusterId: '(being initialized)' });
    await this.transition;
    const manager = this.managerRuntime;
    if (manager !== undefined) {
      const voters = manager.raft.status().members.filter((m) => !m.learner).length;
      if (!req.force) throw new TsswarmError('LEAVE_MANAGER_REFUSED', { reason: leaveRefusal(voters) });
    }
    await this.runTransition(async () => {
      if (manager !== undefined && manager.raft.status().members.filter((m) => !m.learner).length > 1) {
        try {
          await new LocalControl(this).setNodeRole({ ref: this.state.nodeId, role: 'worker' });
        } catch (err) {
          this.log.warn({ err: errorMessage(err) }, 'leaving without leaving Raft (--force)');
        }
      }
      this.stopNodeLifecycle();
      // A node that leaves runs nothing of the swarm any more (Docker removes its tasks too).
      await this.stopNodeServices('remove-tasks');
      this.managerRuntime = undefined;
      await manager?.stop();
      const next: DaemonState = { version: 1, nodeId: this.state.nodeId };
      await writeDaemonState(this.paths.stateFile, next);
      this.state = next;
      await rm(this.paths.raftDir, { recursive: true, force: true });
      await rm(this.paths.certDir, { recursive: true, force: true });
      await rm(join(this.paths.root, 'managers.json'), { force: true });
      this.log.info({ clusterId: swarm.clusterId }, 'left the swarm');
    });
    return {};
  }

  /**
   * What the managers say about this node (the session's Node event): a worker that was
   * promoted becomes a manager. Demotion is seen from Raft (roleTick), since the leader
   * removes the member before anything else can tell it.
   */
  applyOwnNode(node: Node): void {
    if (node.id !== this.state.nodeId) return;
    const action = roleAction(node, this.managerRuntime !== undefined, false);
    if (action === 'become-manager' && this.state.swarm?.role === 'worker') void this.runTransition(() => this.becomeManager()).catch(() => undefined);
  }

  private startNodeLifecycle(): void {
    if (this.state.swarm === undefined || this.stopping) return;
    this.roleTimer ??= setInterval(() => this.roleTick(), ROLE_POLL_MS);
    this.roleTimer.unref();
    const session = this.nodeSession;
    session?.on('node', (node) => this.applyOwnNode(node));
    session?.on('rootCa', (pem) => this.applyTrustedRoots(pem));
    void this.scheduleRenewal();
  }

  private stopNodeLifecycle(): void {
    clearInterval(this.roleTimer);
    clearTimeout(this.renewalTimer);
    this.roleTimer = undefined;
    this.renewalTimer = undefined;
    this.renewalPlan = undefined;
  }

  /** One at a time; a failure is logged (the next tick or event tries again). */
  private runTransition(fn: () => Promise<void>): Promise<void> {
    const run = (this.transition ?? Promise.resolve()).then(fn);
    const settled = run.catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'node role or certificate change failed'));
    this.transition = settled.finally(() => {
      if (this.transition === tracked) this.transition = undefined;
    });
    const tracked = this.transition;
    return run;
  }

  /**
   * The roots the cluster trusts changed (a CA rotation started or finished): trust them and
   * renew the certificate, which the CA now signs with the new root.
   */
  applyTrustedRoots(rootsPem: string): void {
    if (rootsPem === '' || this.state.swarm === undefined || this.transition !== undefined || this.stopping) return;
    void this.readTls().then((material) => {
      if (sameCertificates(material.rootsPem, rootsPem)) return;
      this.log.info('the cluster\'s trusted roots changed; renewing the certificate');
      void this.runTransition(() => this.renewNow(rootsPem)).catch(() => undefined);
    }, () => undefined);
  }

  /**
   * A manager reads the rotation from its store: new trust means a renewal here; on the
   * leader, a rotation whose nodes all hold new-root certificates is finished.
   */
  private followRootRotation(manager: ManagerRuntime): void {
    const { cluster, nodes } = manager.store.view((tx) => ({ cluster: tx.list('cluster')[0], nodes: tx.list('node') }));
    if (cluster?.rootCa === undefined) return;
    const wanted = trustedRootsBundle(cluster.rootCa);
    if (!sameCertificates(manager.tlsMaterial().rootsPem, wanted)) {
      this.applyTrustedRoots(wanted);
      return;
    }
    if (manager.isLeader() && rotationInProgress(cluster) && everyNodeOnNewRoot(cluster, nodes)) {
      void this.runTransition(async () => {
        await manager.store.update((tx) => {
          const current = tx.list('cluster')[0];
          if (current !== undefined && rotationInProgress(current) && everyNodeOnNewRoot(current, tx.list('node'))) tx.update('cluster', finishRootRotation(current));
        });
        this.log.info('CA rotation finished: every node holds a certificate from the new root');
      }).catch(() => undefined);
    }
  }

  /** Watches the local Raft member: a removal with the Node now a WORKER is a demotion. */
  private roleTick(): void {
    const manager = this.managerRuntime;
    if (manager === undefined || this.transition !== undefined || this.stopping) return;
    const st = manager.raft.status();
    if (st.role !== 'stopped') {
      const others = st.members.filter((m) => m.id !== this.state.nodeId && !m.learner && m.addr !== '').map((m) => m.addr);
      if (others.length > 0) this.knownManagers = others;
      this.followRootRotation(manager);
      return;
    }
    const self = manager.store.view((tx) => tx.get('node', this.state.nodeId));
    if (roleAction(self, true, true) === 'become-worker') void this.runTransition(() => this.becomeWorker()).catch(() => undefined);
  }

  /** Demoted: stop the manager, renew as a worker through the other managers, drop the Raft log. */
  private async becomeWorker(): Promise<void> {
    const manager = this.managerRuntime;
    const swarm = this.state.swarm;
    if (manager === undefined || swarm === undefined) return;
    const material = manager.tlsMaterial();
    this.managerRuntime = undefined;
    await manager.stop();
    const renewed = await this.renewUntilRole('worker', material, this.knownManagers);
    await rm(this.paths.raftDir, { recursive: true, force: true });
    const managers = renewed.members.map((m) => m.addr);
    const next: DaemonState = {
      ...this.state,
      swarm: { ...swarm, role: 'worker', advertiseAddr: hostOf(swarm.advertiseAddr), managers: managers.length > 0 ? managers : this.knownManagers },
    };
    await writeDaemonState(this.paths.stateFile, next);
    this.state = next;
    this.nodeSession?.updateTls(renewed.material);
    this.renewalPlan = undefined;
    void this.scheduleRenewal();
    this.log.info('demoted: this node is a worker now');
  }

  /** Promoted: renew as a manager, start a RaftNode with an empty log and join the group. */
  private async becomeManager(): Promise<void> {
    const swarm = this.state.swarm;
    if (swarm === undefined || swarm.role !== 'worker' || this.managerRuntime !== undefined) return;
    const material = await this.readTls();
    const renewed = await this.renewUntilRole('manager', material, this.managerAddrs());
    const port = /:(\d+)$/.exec(swarm.listenAddr)?.[1] ?? '2377';
    const host = hostOf(swarm.advertiseAddr);
    const advertiseAddr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const runtime = await ManagerRuntime.start({
      self: {
        nodeId: this.state.nodeId, clusterId: swarm.clusterId, hostname: this.hostname, engineVersion: this.opts.engineVersion,
        nodeAddr: host, dataPathAddr: swarm.dataPathAddr, nodeCertNotAfterMs: Date.parse(new X509Certificate(renewed.material.certChainPem).validTo),
      },
      listenAddr: swarm.listenAddr,
      advertiseAddr,
      raftDir: this.paths.raftDir,
      tls: renewed.material,
      bootstrap: false,
      peerHints: new Map(renewed.members.map((m) => [m.id, m.addr])),
      logger: this.opts.logger,
      onFatal: (err) => this.fatal(err),
    });
    try {
      await joinRaftGroup({ target: renewed.members[0]?.addr ?? this.managerAddrs()[0]!, clusterId: swarm.clusterId, tls: renewed.material, advertiseAddr, logger: this.opts.logger });
      await runtime.waitForLeader(ELECTION_WAIT_MS);
    } catch (err) {
      await runtime.stop().catch(() => undefined);
      await rm(this.paths.raftDir, { recursive: true, force: true });
      throw err;
    }
    const next: DaemonState = { ...this.state, swarm: { ...swarm, role: 'manager', advertiseAddr } };
    await writeDaemonState(this.paths.stateFile, next);
    this.state = next;
    this.managerRuntime = runtime;
    this.nodeSession?.updateTls(renewed.material);
    this.renewalPlan = undefined;
    void this.scheduleRenewal();
    this.log.info({ advertiseAddr }, 'promoted: this node is a manager now');
  }

  /** Renews until the certificate carries the role (the store's role may lag the Raft change). */
  private async renewUntilRole(role: 'manager' | 'worker', material: Required<NodeTlsMaterial>, managers: readonly string[]): Promise<RenewedCertificate> {
    const deadline = Date.now() + ROLE_RENEW_WAIT_MS;
    for (;;) {
      let renewed: RenewedCertificate | undefined;
      try {
        renewed = await renewNodeCertificate({ clusterId: this.state.swarm!.clusterId, managers, current: material, paths: this.paths, logger: this.log });
        if (renewed.role === role) return renewed;
        material = renewed.material;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new TsswarmError('NODE_ROLE_CHANGE_FAILED', { nodeId: this.state.nodeId, role, reason: `the managers still issue a ${renewed?.role ?? '?'} certificate` });
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** host:port of managers to ask for a certificate: this one first when it is a manager. */
  private managerAddrs(): string[] {
    const swarm = this.state.swarm;
    const own = this.managerRuntime !== undefined && swarm !== undefined ? [swarm.advertiseAddr] : [];
    return [...new Set([...own, ...this.knownManagers, ...(swarm?.managers ?? [])])];
  }

  private async readTls(): Promise<Required<NodeTlsMaterial>> {
    if (this.managerRuntime !== undefined) return this.managerRuntime.tlsMaterial();
    const [rootsPem, certChainPem, keyPem] = await Promise.all([
      readFile(this.paths.rootCaCert, 'utf8'), readFile(this.paths.nodeCert, 'utf8'), readFile(this.paths.nodeKey, 'utf8'),
    ]);
    return { rootsPem, certChainPem, keyPem };
  }

  /** Sets the timer of the next renewal: a random point in 50-80% of the certificate's life. */
  private async scheduleRenewal(): Promise<void> {
    clearTimeout(this.renewalTimer);
    if (this.state.swarm === undefined || this.stopping) return;
    const material = await this.readTls().catch(() => undefined);
    if (material === undefined) return;
    this.renewalPlan ??= planRenewal(material.certChainPem, this.opts.rng ?? systemRng);
    const delay = renewalDelay(this.renewalPlan, Date.now());
    this.renewalTimer = setTimeout(() => {
      if (renewalDelay(this.renewalPlan!, Date.now()) > 0) {
        void this.scheduleRenewal();
        return;
      }
      void this.runTransition(() => this.renewNow()).catch(() => {
        // Try again in a while: the certificate still has a fifth of its life to go.
        this.renewalTimer = setTimeout(() => void this.scheduleRenewal(), RENEW_RETRY_MS);
        this.renewalTimer.unref();
      });
    }, delay);
    this.renewalTimer.unref();
    this.log.info({ renewAt: new Date(this.renewalPlan.renewAt).toISOString() }, 'certificate renewal scheduled');
  }

  /** Renews the node certificate now, with the roots given (a CA rotation) or the current ones. */
  async renewNow(rootsPem?: string): Promise<void> {
    const swarm = this.state.swarm;
    if (swarm === undefined) return;
    const material = await this.readTls();
    const renewed = await renewNodeCertificate({
      clusterId: swarm.clusterId, managers: this.managerAddrs(), current: material, paths: this.paths, logger: this.log,
      ...(rootsPem !== undefined ? { rootsPem } : {}),
    });
    this.managerRuntime?.updateTls(renewed.material);
    this.nodeSession?.updateTls(renewed.material);
    this.renewalPlan = undefined;
    void this.scheduleRenewal();
  }

  /** The node's dispatcher session (node-session.ts), once in a swarm. */
  session(): NodeSession | undefined {
    return this.nodeSession;
  }

  networkView(networkId: string): LocalNetworkView | undefined {
    return this.nodeTasks?.networks.networkView(networkId);
  }

  localNetworks(): Network[] {
    return this.nodeTasks?.localNetworks() ?? [];
  }

  gossipInfo(): NodeGossipInfo | undefined {
    return this.nodeGossip?.info();
  }

  private async stopGossip(): Promise<void> {
    const gossip = this.nodeGossip;
    this.nodeGossip = undefined;
    await gossip?.stop();
  }

  /** Every node in a swarm keeps a dispatcher session; a failure here is logged, never fatal. */
  private async startSession(joinedVia?: string): Promise<void> {
    const swarm = this.state.swarm;
    if (swarm === undefined || this.nodeSession !== undefined) return;
    try {
      const tasks = (this.nodeTasks ??= createNodeExecutor({
        nodeId: this.state.nodeId, hostname: this.hostname, swarm, paths: this.paths, execRoot: this.opts.execRoot ?? '/run/tsswarm', logger: this.opts.logger,
      }));
      this.nodeSession = await NodeSession.start({
        nodeId: this.state.nodeId, swarm, hostname: this.hostname, engineVersion: this.opts.engineVersion, paths: this.paths,
        executor: tasks.executor, logSource: tasks.executor,
        logger: this.opts.logger, ...(joinedVia !== undefined ? { joinedVia } : {}),
      });
      this.nodeSession.on('nodeAttachments', (attachments) => tasks.setNodeAttachments(attachments));
      this.nodeGossip = new NodeGossip({ nodeId: this.state.nodeId, advertiseHost: hostOf(swarm.advertiseAddr), session: this.nodeSession, logger: this.opts.logger });
      this.nodeGossip.onNode((node) => tasks.networks.attach(node));
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'the dispatcher session did not start');
    }
  }

  private fatal(err: unknown): void {
    this.log.fatal({ err: errorMessage(err) }, 'fatal error; stopping');
    void this.stop().finally(() => this.opts.onFatal(err));
  }

  /** Stops serving, stops the manager, removes the socket and releases the data root. */
  /** Gossip, session and executor, in that order; `remove-tasks` also stops every task first. */
  private async stopNodeServices(tasks: 'keep-tasks' | 'remove-tasks'): Promise<void> {
    await this.stopGossip();
    const session = this.nodeSession;
    this.nodeSession = undefined;
    await session?.stop();
    const node = this.nodeTasks;
    this.nodeTasks = undefined;
    // Each task's grace period applies; 60 s bounds a task that will not die.
    if (tasks === 'remove-tasks') await node?.executor.removeAll(60_000);
    await node?.executor.close();
    node?.networks.close();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopNodeLifecycle();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await rm(this.opts.socketPath, { force: true });
    }
    // The tasks keep running: the next daemon adopts them (same PIDs).
    await this.stopNodeServices('keep-tasks');
    const manager = this.managerRuntime;
    this.managerRuntime = undefined;
    await manager?.stop();
    const release = this.releaseLock;
    this.releaseLock = undefined;
    await release?.();
  }
}
