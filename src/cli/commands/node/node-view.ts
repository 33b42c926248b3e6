import type { Node } from '../../../manager/store/index.js';
import { titleCase } from '../../output.js';

/** MANAGER STATUS as docker node ls shows it: Leader, Reachable, Unreachable, or blank for workers. */
export function managerStatusText(node: Node): string {
  const ms = node.managerStatus;
  // Absent on workers (null once it crossed the wire).
  if (ms === undefined || ms === null) return '';
  if (ms.leader) return 'Leader';
  if (ms.reachability === 'REACHABLE') return 'Reachable';
  if (ms.reachability === 'UNREACHABLE') return 'Unreachable';
  return 'Unknown';
}

/** One `node ls` row, with Docker's column names (the JSON form of `--format json`). */
export interface NodeRow {
  ID: string;
  Self: boolean;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
  EngineVersion: string;
}

export function nodeRow(node: Node, selfId: string): NodeRow {
  return {
    ID: node.id,
    Self: node.id === selfId,
    Hostname: node.description?.hostname ?? '',
    Status: titleCase(node.status?.state ?? 'UNKNOWN'),
    Availability: titleCase(node.spec.availability),
    ManagerStatus: managerStatusText(node),
    EngineVersion: node.description?.engineVersion ?? '',
  };
}
