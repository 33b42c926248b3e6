#!/usr/bin/env node
/**
 * One manager's Raft as a process of its own, with a state machine that records what it
 * applies: the unit that the multi-process test and the benchmark start, kill and restart.
 *
 *   node dist/src/manager/raft/standalone/member-main.js --id m1 --listen 127.0.0.1:2377 \
 *     --peers m1=127.0.0.1:2377,m2=127.0.0.2:2377,m3=127.0.0.3:2377 --data-dir /tmp/m1
 *
 * Logs JSON lines to stderr; exits 0 on SIGTERM/SIGINT after stopping Raft cleanly.
 */
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { Command, InvalidArgumentError } from 'commander';
import { errorMessage } from '../../../errors/index.js';
import { createRootLogger } from '../../../log/logger.js';
import { RaftNode } from '../node/index.js';
import { loadRaftProto } from '../transport/index.js';
import { probeServiceImplementation } from './probe-service.js';
import { RecordingStateMachine } from './recording-state-machine.js';

function parsePeers(value: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const part of value.split(',').filter((p) => p.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || !part.slice(eq + 1).includes(':')) throw new InvalidArgumentError(`expected id=host:port, got "${part}"`);
    peers.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return peers;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

const program = new Command()
  .name('member-main')
  .description('run one standalone Raft member with a recording state machine')
  .requiredOption('--id <id>', 'this member\'s Raft ID')
  .requiredOption('--listen <host:port>', 'address of the Raft gRPC server')
  .option('--peers <list>', 'id=host:port,... of the initial members (bootstrap) or of known members (join)', parsePeers, new Map<string, string>())
  .requiredOption('--data-dir <dir>', 'where the WAL and snapshots live')
  .option('--no-fsync', 'do not fdatasync the log (a crash can lose acknowledged writes)')
  .option('--no-record-ids', 'do not keep the list of applied request IDs (only count and hash)')
  .option('--join', 'start empty and wait to be added with addMember instead of bootstrapping')
  .option('--snapshot-interval <entries>', 'entries between snapshots', positiveInt)
  .option('--election-tick <ticks>', 'ticks of 100 ms before a follower campaigns', positiveInt);

program.parse(process.argv);
const o = program.opts<{
  id: string;
  listen: string;
  peers: Map<string, string>;
  dataDir: string;
  fsync: boolean;
  recordIds: boolean;
  join?: boolean;
  snapshotInterval?: number;
  electionTick?: number;
}>();

const logger = createRootLogger({ base: { raftId: o.id } });
const sm = new RecordingStateMachine(o.recordIds);
const members = new Map(o.peers);
if (!members.has(o.id)) members.set(o.id, o.listen);

let node: RaftNode;
try {
  node = await RaftNode.start({
    id: o.id,
    listen: o.listen,
    dataDir: o.dataDir,
    ...(o.join === true ? {} : { initialMembers: members }),
    peerHints: members,
    stateMachine: sm,
    logger,
    serverCredentials: ServerCredentials.createInsecure(),
    channelCredentials: ChannelCredentials.createInsecure(),
    config: {
      fsync: o.fsync,
      ...(o.snapshotInterval !== undefined ? { snapshotInterval: o.snapshotInterval } : {}),
      ...(o.electionTick !== undefined ? { electionTick: o.electionTick } : {}),
    },
    extraServices: [{ definition: loadRaftProto().probeService, implementation: probeServiceImplementation(sm) }],
    // The node already logged why; a member that cannot write its log must not linger.
    onFatal: () => {
      logger.flush();
      process.exit(1);
    },
  });
} catch (err) {
  logger.fatal({ err: errorMessage(err) }, 'raft member failed to start');
  logger.flush();
  process.exit(1);
}
logger.info({ addr: node.address, fsync: o.fsync }, 'raft member running');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping raft member');
  try {
    await node.stop();
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'error while stopping');
  }
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
