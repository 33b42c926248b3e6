import { readFile } from 'node:fs/promises';
import { arch, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { TsswarmError, errorMessage } from '../errors/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import {
  MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, trustBundleFromPem, type NodeTlsMaterial,
} from '../manager/ca/index.js';
import type { DeepPartial, NodeDescription } from '../objects/index.js';
import { systemClock } from '../util/clock.js';
import { systemRng } from '../util/rng.js';
import {
  Agent, RejectingExecutor, grpcDispatcherConnector, type AgentConfigInput, type LogSource, type SessionEvents,
} from '../worker/agent/index.js';
import type { TaskExecutor } from '../worker/executor/task-executor.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DataRootPaths } from './data-root.js';
import type { SwarmState } from './daemon-state.js';

export interface NodeSessionOptions {
  readonly nodeId: string;
  readonly swarm: SwarmState;
  readonly hostname: string;
  readonly engineVersion: string;
  readonly paths: DataRootPaths;
  /** The manager `tsswarm join` went through (HOST[:PORT]); tried first right after a join. */
  readonly joinedVia?: string;
  /**
   * What runs the assigned tasks. Without one the node runs NOTHING: a RejectingExecutor
   * reports every assigned task REJECTED (TASK_NO_EXECUTOR), so the managers place it
   * elsewhere. The caller owns (closes) an executor it passes; the default one is closed here.
   */
  readonly executor?: TaskExecutor;
  /**
   * Where `service logs` reads this node's task lines: the NodeTaskExecutor (its readLogs).
   * Without one, every task a log subscription names ends with AGENT_NO_LOG_SOURCE.
   */
  readonly logSource?: LogSource;
  readonly logger: Logger;
  readonly config?: AgentConfigInput;
}

/** `<data-root>/managers.json`: the managers the agent last knew, for after a restart. */
const managersFileSchema = z.object({ version: z.literal(1), managers: z.array(z.string().min(1)) });

function managersFile(paths: DataRootPaths): string {
  return join(paths.root, 'managers.json');
}

/** HOST:PORT, with 2377 when no port is given. */
function withPort(addr: string): string {
  const text = addr.trim();
  return text === '' || /:\d+$/.test(text) ? text : `${text}:2377`;
}

function hostOf(addr: string): string {
  return addr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
}

async function readKnownManagers(paths: DataRootPaths, log: Logger): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(managersFile(paths), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err: errorMessage(err) }, 'cannot read managers.json; starting without it');
    return [];
  }
  try {
    return managersFileSchema.parse(JSON.parse(text)).managers;
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'managers.json is invalid; starting without it');
    return [];
  }
}

async function readTls(paths: DataRootPaths): Promise<Required<NodeTlsMaterial>> {
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new TsswarmError('DAEMON_STATE_INVALID', { path, reason: errorMessage(err) }, { cause: err });
    }
  };
  const [rootsPem, certChainPem, keyPem] = await Promise.all([read(paths.rootCaCert), read(paths.nodeCert), read(paths.nodeKey)]);
  return { rootsPem, certChainPem, keyPem };
}

/** What the node says about itself at each session start. */
function describeHost(opts: NodeSessionOptions): DeepPartial<NodeDescription> {
  const architecture = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
  return {
    hostname: opts.hostname,
    addresses: [hostOf(opts.swarm.advertiseAddr)],
    engineVersion: opts.engineVersion,
    platform: { architecture, os: process.platform },
    resources: { nanoCpus: cpus().length * 1e9, memoryBytes: totalmem() },
  };
}

/**
 * The daemon's side of the dispatcher session: every node in a swarm (worker and manager)
 * runs one Agent once joined and after every restart. This wires it to the data root: the
 * node's certificate (mutual TLS, managers only as servers), the managers to try (the one it
 * joined through, or itself on a manager, then those last known, kept in managers.json), its
 * description, and the executor. Session events (the node's Node object for promote/demote,
 * managers, root CA, network keys, heartbeat period) are available through on().
 */
export class NodeSession {
  private constructor(
    readonly agent: Agent,
    private readonly provider: MemoryCertificateProvider,
    private readonly ownedExecutor: TaskExecutor | undefined,
    private readonly unsubscribe: () => void,
  ) {}

  /** Starts the agent. DAEMON_STATE_INVALID when the certificates cannot be read. */
  static async start(opts: NodeSessionOptions): Promise<NodeSession> {
    const log = componentLogger(opts.logger, 'node-session', { nodeId: opts.nodeId });
    const tls = await readTls(opts.paths);
    const provider = new MemoryCertificateProvider(tls);
    const trust = (): ReturnType<typeof trustBundleFromPem> => trustBundleFromPem(provider.current()?.rootsPem ?? tls.rootsPem);
    const connect = grpcDispatcherConnector({
      credentials: createNodeChannelCredentials(provider, { clusterId: opts.swarm.clusterId, trust }),
      channelOptions: { ...NODE_CHANNEL_OPTIONS },
    });
    const first = opts.joinedVia !== undefined ? withPort(opts.joinedVia) : opts.swarm.role === 'manager' ? opts.swarm.advertiseAddr : '';
    const managers = [first, ...(await readKnownManagers(opts.paths, log))].filter((a) => a !== '');
    const ownedExecutor = opts.executor === undefined ? new RejectingExecutor(Date.now) : undefined;
    if (ownedExecutor !== undefined) log.warn('no task executor: every task assigned to this node is rejected');
    const agent = new Agent({
      nodeId: opts.nodeId,
      managers,
      advertiseAddr: hostOf(opts.swarm.advertiseAddr),
      description: () => describeHost(opts),
      executor: opts.executor ?? ownedExecutor!,
      ...(opts.logSource !== undefined ? { logSource: opts.logSource } : {}),
      connect,
      clock: systemClock,
      rng: systemRng,
      logger: opts.logger,
      ...(opts.config !== undefined ? { config: opts.config } : {}),
    });
    // Remember the managers so a restarted node finds the cluster even if the one it joined
    // through is gone. Writes are serialized; the latest list wins.
    let writing = Promise.resolve();
    const unsubscribe = agent.on('managers', (peers) => {
      const content = `${JSON.stringify({ version: 1, managers: peers.map((p) => p.addr) }, null, 2)}\n`;
      writing = writing
        .then(() => writeFileAtomic(managersFile(opts.paths), content))
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'cannot write managers.json'));
    });
    if (managers.length === 0) {
      log.error('no manager is known (no managers.json in the data root); this node has no dispatcher session');
    } else {
      agent.start();
    }
    return new NodeSession(agent, provider, ownedExecutor, unsubscribe);
  }

  /** Subscribes to a session event; returns the unsubscribe function. */
  on<E extends keyof SessionEvents>(event: E, listener: SessionEvents[E]): () => void {
    return this.agent.on(event, listener);
  }

  /** A renewed certificate or new roots: the next connection to a manager uses them. */
  updateTls(material: Required<NodeTlsMaterial>): void {
    this.provider.update(material);
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    await this.agent.stop();
    await this.ownedExecutor?.close();
  }
}
