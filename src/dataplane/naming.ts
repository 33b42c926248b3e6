import { createHash } from 'node:crypto';
import type { NsName } from './kernel/types.js';

/**
 * Names of the kernel objects the dataplane owns, derived from IDs only, so that a restarted
 * daemon finds its objects again. Interface names are at most 15 characters.
 */

/** The overlay namespace of a network (a file under the node's netns dir). */
export function overlayNs(networkId: string): NsName {
  return `ov-${networkId}`;
}

/** The namespace of a sandbox. */
export function sandboxNs(sandboxId: string): NsName {
  return `sb-${sandboxId}`;
}

export const OVERLAY_BRIDGE = 'br0';

/** The VXLAN device; unique per VNI in the host namespace, where it is created. */
export function vxlanName(vni: number): string {
  return `vxlan${vni}`;
}

/** 8 base-36 characters of a SHA-256: 41 bits, no collision among a node's sandboxes in practice. */
function short(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return (h.readUIntBE(0, 6) % 36 ** 8).toString(36).padStart(8, '0');
}

/** The overlay-namespace end of a sandbox's veth (10 characters). */
export function overlayVeth(sandboxId: string): string {
  return `ve${short(sandboxId)}`;
}

/** The host end of a sandbox's gwbridge veth (10 characters). */
export function gwVeth(sandboxId: string): string {
  return `gw${short(sandboxId)}`;
}

/** The interface of a sandbox's endpoint number i (Docker's eth0, eth1, ...). */
export function sandboxIf(i: number): string {
  return `eth${i}`;
}

export const OWNED_NS = /^(ov|sb)-/;
export const OWNED_HOST_VETH = /^gw[0-9a-z]{8}$/;
export const OWNED_HOST_VXLAN = /^vxlan\d+$/;
/** Written as the alias of a gwbridge the dataplane created, so only that one is ever removed. */
export const GWBRIDGE_ALIAS = 'tsswarm';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export function validId(id: string): boolean {
  return ID.test(id);
}

/** The nft table (family ip) of a sandbox's load balancers, in the sandbox's own namespace. */
export const LB_NFT_TABLE = 'tsswarm-lb';

/**
 * An nft rule's key (written as its comment, read back to compare): a label for people and 8
 * hex digits of the rule's text, so that a changed rule has another key. At most 128 bytes
 * (nft's comment limit): the label holds at most a 64-character ID and a few short words.
 */
export function ruleKey(label: string, rule: string): string {
  return `${label} ${createHash('sha256').update(rule).digest('hex').slice(0, 8)}`;
}
