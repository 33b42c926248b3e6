import type { KernelOp } from './types.js';

/**
 * One line of text per op, close to the iproute2 command it becomes. Used for logs and for
 * the text dumps that planner tests compare.
 */
export function formatOp(op: KernelOp): string {
  const at = `[${op.ns}]`;
  switch (op.op) {
    case 'netns-add':
      return `netns add ${op.ns}${op.from !== undefined ? ` from ${op.from}` : ''}`;
    case 'netns-del':
      return `netns del ${op.ns}`;
    case 'bridge-add':
      return `${at} link add ${op.name} type bridge mtu ${op.mtu}${op.alias !== undefined ? ` alias ${op.alias}` : ''}`;
    case 'vxlan-add':
      return `${at} link add ${op.name} type vxlan id ${op.vni} dstport ${op.port} local ${op.local} nolearning proxy noudpcsum mtu ${op.mtu}`;
    case 'veth-add':
      return `${at} link add ${op.name} mtu ${op.mtu} type veth peer [${op.peerNs}] ${op.peerName}${op.peerMac !== undefined ? ` address ${op.peerMac}` : ''}`;
    case 'link-set': {
      const parts = [`${at} link set ${op.name}`];
      if (op.master !== undefined) parts.push(`master ${op.master}`);
      if (op.mtu !== undefined) parts.push(`mtu ${op.mtu}`);
      if (op.isolated !== undefined) parts.push(`isolated ${op.isolated ? 'on' : 'off'}`);
      if (op.up !== undefined) parts.push(op.up ? 'up' : 'down');
      return parts.join(' ');
    }
    case 'link-del':
      return `${at} link del ${op.name}`;
    case 'addr-add':
    case 'addr-del':
      return `${at} addr ${op.op === 'addr-add' ? 'add' : 'del'} ${op.cidr} dev ${op.dev}`;
    case 'route-add':
    case 'route-del':
      return `${at} route ${op.op === 'route-add' ? 'add' : 'del'} ${op.dst}${op.via !== undefined ? ` via ${op.via}` : ''} dev ${op.dev}`;
    case 'neigh-add':
    case 'neigh-del':
      return `${at} neigh ${op.op === 'neigh-add' ? 'add' : 'del'} ${op.ip} lladdr ${op.mac} dev ${op.dev} nud permanent`;
    case 'fdb-add':
    case 'fdb-del':
      return `${at} fdb ${op.op === 'fdb-add' ? 'add' : 'del'} ${op.mac} dev ${op.dev} dst ${op.dst} self permanent`;
    case 'nft-table':
      return `${at} nft table ${op.family} ${op.table} {${op.chains.map((c) => ` ${c.name}: ${c.rules.map((r) => r.key).join(',')}`).join(';')} }`;
    case 'nft-table-del':
      return `${at} nft delete table ${op.family} ${op.table}`;
    case 'sysctl':
      return `${at} sysctl ${op.key}=${op.value}`;
  }
}

/** The text dump of a plan: one op per line. */
export function formatOps(ops: readonly KernelOp[]): string {
  return ops.map(formatOp).join('\n');
}
