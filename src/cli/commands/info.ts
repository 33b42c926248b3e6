import type { Command } from 'commander';
import { formatDuration } from '../../manager/controlapi/duration.js';
import type { GetInfoResponse } from '../../manager/controlapi/messages.js';
import { withDaemon } from '../daemon-client.js';
import { isJsonFormat } from '../output.js';
import { guarded } from './guarded.js';

function date(ms: number): string {
  return ms === 0 ? '-' : new Date(ms).toISOString();
}

/**
 * This node's own gossip: its address, the members it sees with their state, and what it
 * dropped (a packet with an unknown key shows up under unknown-key). Empty until gossip runs.
 */
function gossipLines(i: GetInfoResponse): string[] {
  const members = i.gossipMembers ?? [];
  if ((i.gossipAddr ?? '') === '') return [' Gossip: not running'];
  const dropped = Object.entries(i.gossipDropped ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  const alive = members.filter((m) => m.state === 'alive').length;
  const idWidth = Math.max(7, ...members.map((m) => m.nodeId.length));
  const addrWidth = Math.max(7, ...members.map((m) => m.addr.length));
  return [
    ' Gossip:',
    `  Address: ${i.gossipAddr}`,
    `  Keys: ${i.gossipKeys ?? 0}`,
    `  Members: ${members.length} (${alive} alive)`,
    ...members.map((m) => `   ${m.nodeId.padEnd(idWidth)}  ${m.addr.padEnd(addrWidth)}  ${m.state}`),
    `  Packets Sent: ${i.gossipPacketsSent ?? 0}`,
    `  Packets Received: ${i.gossipPacketsReceived ?? 0}`,
    `  Dropped: ${dropped.length === 0 ? 0 : dropped.map(([reason, n]) => `${reason} ${n}`).join(', ')}`,
  ];
}

/** The Swarm section of `docker info`, with the Raft figures tsswarm adds. */
function swarmSection(i: GetInfoResponse): string {
  if (i.localNodeState === 'inactive') return `Swarm: inactive\nEngine Version: ${i.engineVersion}\n`;
  if (!i.isManager) {
    return [
      'Swarm: active',
      ` NodeID: ${i.nodeId}`,
      ' Is Manager: false',
      ` ClusterID: ${i.clusterId}`,
      ` Node Address: ${i.nodeAddr}`,
      ` Data Path Address: ${i.dataPathAddr}`,
      ...gossipLines(i),
      `Engine Version: ${i.engineVersion}`,
      `Name: ${i.hostname}`,
    ].join('\n') + '\n';
  }
  const lines = [
    'Swarm: active',
    ` NodeID: ${i.nodeId}`,
    ` Is Manager: ${i.isManager}`,
    ` ClusterID: ${i.clusterId}`,
    ` Managers: ${i.managers}`,
    ` Nodes: ${i.nodes}`,
    ` Default Address Pool: ${i.defaultAddrPools.join(' ')}`,
    ` SubnetSize: ${i.subnetSize}`,
    ` Data Path Port: ${i.dataPathPort}`,
    ' Orchestration:',
    `  Task History Retention Limit: ${i.taskHistoryRetentionLimit}`,
    ' Raft:',
    `  Leader: ${i.raftLeaderId}`,
    `  Term: ${i.raftTerm}`,
    `  Applied: ${i.raftApplied}`,
    `  Commit: ${i.raftCommit}`,
    `  Snapshot Interval: ${i.snapshotInterval}`,
    ' Dispatcher:',
    `  Heartbeat Period: ${formatDuration(i.dispatcherHeartbeatPeriodMs)}`,
    ' CA Configuration:',
    `  Expiry Duration: ${formatDuration(i.nodeCertExpiryMs)}`,
    `  Root CA Expires: ${date(i.rootCaNotAfterMs)}`,
    `  Node Certificate Expires: ${date(i.nodeCertNotAfterMs)}`,
    ` Autolock Managers: ${i.autolockManagers}`,
    ` Node Address: ${i.nodeAddr}`,
    ` Data Path Address: ${i.dataPathAddr}`,
    ' Manager Addresses:',
    ...i.managerAddrs.map((a) => `  ${a}`),
    ...gossipLines(i),
    `Engine Version: ${i.engineVersion}`,
    `Name: ${i.hostname}`,
  ];
  return lines.join('\n') + '\n';
}

/** `tsswarm info`: this node's view of its swarm (docker info's Swarm section). */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('Show this node\'s swarm: IDs, managers, nodes, Raft and CA state')
    .option('--format <format>', 'json: print the information as one JSON object')
    .action(async (flags: { format?: string }, cmd: Command) =>
      guarded(cmd, async () => {
        const info = await withDaemon(cmd, (c) => c.getInfo());
        process.stdout.write(isJsonFormat(flags.format) ? `${JSON.stringify(info)}\n` : swarmSection(info));
      }),
    );
}
