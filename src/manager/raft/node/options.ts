import type { ChannelCredentials, ServerCredentials, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../../../log/logger.js';
import type { Rng } from '../../../util/rng.js';
import type { RaftCoreTunables } from '../core/index.js';
import type { TransportTuning } from '../transport/index.js';
import type { NodeId, Role } from '../types.js';
import type { RaftNodeConfigInput } from './config.js';
import type { OpenedLog } from './durable-log.js';
import type { StateMachine } from './state-machine.js';

export interface RaftNodeOptions {
  readonly id: NodeId;
  /** host:port the Raft gRPC server binds (TCP 2377 in production; port 0 in tests). */
  readonly listen: string;
  /** The address other members dial; defaults to the bound address. */
  readonly advertiseAddr?: string;
  readonly dataDir: string;
  /**
   * Bootstrap: the voters of a brand-new cluster (ID -> address, including this node). Used
   * only when dataDir holds no state; a restarted node ignores it and recovers from disk.
   * Omit it for a node that will be added to an existing cluster with addMember.
   */
  readonly initialMembers?: ReadonlyMap<NodeId, string>;
  /** Addresses known in advance (e.g. from the command line), used until the log says otherwise. */
  readonly peerHints?: ReadonlyMap<NodeId, string>;
  readonly stateMachine: StateMachine;
  /** The caller's logger, already tagged with this node's ID; components add their own tag. */
  readonly logger: Logger;
  readonly serverCredentials: ServerCredentials;
  readonly channelCredentials: ChannelCredentials;
  /** Opens the WAL and snapshots in dataDir; defaults to the storage package's openRaftLog. */
  readonly openLog?: (dir: string, logger: Logger) => Promise<OpenedLog>;
  readonly config?: RaftNodeConfigInput;
  readonly coreTunables?: Partial<Omit<RaftCoreTunables, 'electionTick' | 'heartbeatTick' | 'applied'>>;
  readonly transportTuning?: Partial<TransportTuning>;
  readonly extraServices?: ReadonlyArray<{ definition: ServiceDefinition; implementation: UntypedServiceImplementation }>;
  readonly rng?: Rng;
  /** Called once if the node stops itself after a fatal error (e.g. the disk failed). */
  readonly onFatal?: (err: unknown) => void;
}

export interface RaftNodeStatus {
  readonly id: NodeId;
  readonly role: Role | 'stopped';
  readonly term: number;
  readonly leaderId: NodeId;
  readonly leaderAddr: string;
  readonly commit: number;
  readonly applied: number;
  readonly members: ReadonlyArray<{ id: NodeId; addr: string; learner: boolean }>;
}
