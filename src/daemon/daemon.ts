import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { Server } from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../errors/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { controlServiceImplementation } from '../manager/controlapi/control-service.js';
import { loadControlProto } from '../manager/controlapi/load-proto.js';
import type { InitClusterRequest, InitClusterResponse, JoinClusterRequest, JoinClusterResponse } from '../manager/controlapi/messages.js';
import { dataRootPaths, type DataRootPaths } from './data-root.js';
import { readDaemonState, writeDaemonState, type DaemonState, type SwarmState } from './daemon-state.js';
import { initCluster } from './init-cluster.js';
import { joinCluster } from './join-cluster.js';
import { LocalControl, type LocalDaemon } from './local-control.js';
import { serveLocalSocket } from './local-socket.js';
import { ManagerRuntime } from './manager-runtime.js';
import { acquirePidLock } from './pid-lock.js';
import { newRandomId } from './random-id.js';

export interface DaemonOptions {
  readonly dataRoot: string;
  /** Path of the local API's unix socket. */
  readonly socketPath: string;
  /** Hostname recorded for this node; the machine's by default. */
  readonly nodeName?: string;
  readonly engineVersion: string;
  readonly logger: Logger;
  /** Called once the daemon stopped itself after a fatal error (the caller exits non-zero). */
  readonly onFatal: (err: unknown) => void;
}

/**
 * ms a one-member Raft group may take to elect itself at init or restart. Its election
 * timeout is 1-2 s; 15 s leaves room for a slow fsync on a loaded machine.
 */
const ELECTION_WAIT_MS = 15_000;

/**
 * The tsswarm daemon of one host: the composition root. It owns the data root (identity,
 * certificates, Raft log), the local API socket and, on a manager, the ManagerRuntime.
 * start() brings back whatever the data root says this node was; stop() undoes start().
 */
export class Daemon implements LocalDaemon {
  private managerRuntime: ManagerRuntime | undefined;
  private initializing = false;
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
      this.log.info({ nodeId: result.nodeId, clusterId: result.swarm.clusterId, role: result.role }, 'joined the swarm');
      return { nodeId: result.nodeId, clusterId: result.swarm.clusterId, role: result.role };
    } finally {
      this.initializing = false;
    }
  }

  /** `tsswarm init`; SWARM_ALREADY_INITIALIZED if in a swarm or an init is running. */
  async init(req: InitClusterRequest): Promise<InitClusterResponse> {
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
      this.log.info({ clusterId: result.swarm.clusterId, listen: result.swarm.listenAddr }, 'swarm initialized');
      return { nodeId: this.state.nodeId, clusterId: result.swarm.clusterId, workerToken: result.workerToken, managerAddr: result.swarm.advertiseAddr };
    } finally {
      this.initializing = false;
    }
  }

  /** Restarts the manager recorded in the data root: same certificates, same Raft log. */
  private async restartManager(): Promise<void> {
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
      bootstrap: false,
      logger: this.opts.logger,
      onFatal: (err) => this.fatal(err),
    });
    this.log.info({ clusterId: swarm.clusterId, listen: swarm.listenAddr }, 'manager restarted from the data root');
  }

  private fatal(err: unknown): void {
    this.log.fatal({ err: errorMessage(err) }, 'fatal error; stopping');
    void this.stop().finally(() => this.opts.onFatal(err));
  }

  /** Stops serving, stops the manager, removes the socket and releases the data root. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await rm(this.opts.socketPath, { force: true });
    }
    const manager = this.managerRuntime;
    this.managerRuntime = undefined;
    await manager?.stop();
    const release = this.releaseLock;
    this.releaseLock = undefined;
    await release?.();
  }
}
