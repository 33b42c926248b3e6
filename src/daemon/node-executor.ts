import { errorMessage } from '../errors/index.js';
import { join } from 'node:path';
import type { Network, NetworkAttachment } from '../objects/index.js';
import { createLinuxDataplane } from '../dataplane/dataplane.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { createTaskExecutor, type NodeTaskExecutor } from '../worker/executor/executor.js';
import { DockerRuntime } from '../worker/runtime/docker-runtime.js';
import { ProcessRuntime } from '../worker/runtime/process-runtime.js';
import { DataplaneSandboxes } from '../worker/sandbox/dataplane-sandboxes.js';
import type { DataRootPaths } from './data-root.js';
import type { SwarmState } from './daemon-state.js';
import { NodeNetworks } from './node-networks.js';

export interface NodeExecutorOptions {
  readonly nodeId: string;
  readonly hostname: string;
  readonly swarm: SwarmState;
  readonly paths: DataRootPaths;
  /** Where the dataplane keeps its namespaces (the daemon's --exec-root). */
  readonly execRoot: string;
  readonly logger: Logger;
}

/** The host part of ADDR[:PORT] (the data-path address is stored as the user gave it). */
function hostOf(addr: string): string {
  return addr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
}

export interface NodeTasks {
  readonly executor: NodeTaskExecutor;
  /** The tasks' overlay networks in gossip; attach the node's GossipNode to it as it comes. */
  readonly networks: NodeNetworks;
  /** The overlay networks this node's tasks are attached to (what a worker knows of networks). */
  localNetworks(): Network[];
  /**
   * The node's own attachments (Node.attachments, from the session): its address on the
   * ingress network gets the node's ingress sandbox, through which the routing mesh goes.
   */
  setNodeAttachments(attachments: readonly NetworkAttachment[]): void;
}

/** The node's ingress sandbox (Docker's ingress_sbox), named after the node so that its gossip entry is unique. */
export function ingressSandboxId(nodeId: string): string {
  return `ingress-sbox-${nodeId}`;
}

/**
 * What runs this node's tasks: the executor over both runtimes, with one dataplane sandbox
 * per task (its own network namespace, reaching outside through docker_gwbridge, with one
 * interface per overlay network it is attached to), and the node networks that publish those
 * endpoints in gossip and turn the other nodes' into the overlays' forwarding entries. The
 * docker runtime is always offered: a task that asks for it on a host without an engine fails
 * with TASK_RUNTIME_UNAVAILABLE in `service ps`, as a missing image does.
 */
export function createNodeExecutor(opts: NodeExecutorOptions): NodeTasks {
  const log = componentLogger(opts.logger, 'tasks');
  const vtep = hostOf(opts.swarm.dataPathAddr);
  const dataplane = createLinuxDataplane({ runDir: opts.execRoot, dataPathAddr: vtep }, log);
  // The sandboxes ask the networks for the remote endpoints, the networks follow the sandboxes.
  const ref: { networks?: NodeNetworks } = {};
  const sandboxes = new DataplaneSandboxes(dataplane, {
    logger: log,
    compose: (local) => ref.networks?.compose(local) ?? { networks: local.networks, sandboxes: local.sandboxes, remotes: [] },
  });
  const networks = new NodeNetworks({ nodeId: opts.nodeId, vtep, sandboxes, logger: opts.logger, carryFile: join(opts.execRoot, 'overlay-remotes.json') });
  ref.networks = networks;
  const executor = createTaskExecutor({
    nodeId: opts.nodeId,
    nodeHostname: opts.hostname,
    dataDir: opts.paths.root,
    sandboxes,
    runtimes: { PROCESS: new ProcessRuntime(), DOCKER: new DockerRuntime() },
    logger: opts.logger,
  });
  // Once the previous daemon's tasks are adopted, one reconcile repairs whatever a crash left
  // half-done (the carried remote endpoints keep the overlays' forwarding entries meanwhile).
  void executor
    .ready()
    .then(() => sandboxes.refresh())
    .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'the startup reconcile failed; the next change retries it'));
  const setNodeAttachments = (attachments: readonly NetworkAttachment[]): void => {
    const ingress = attachments.find((a) => a.network?.spec.ingress === true);
    sandboxes.setIngress(ingressSandboxId(opts.nodeId), ingress).catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'the ingress sandbox was not made; the routing mesh does not reach this node'));
  };
  return { executor, networks, localNetworks: () => sandboxes.localNetworks(), setNodeAttachments };
}
