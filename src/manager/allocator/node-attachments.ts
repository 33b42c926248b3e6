/**
 * Every node's own address on the ingress network (Docker's per-node ingress endpoint, the
 * address of its ingress-sbox): the routing mesh on a node forwards published ports from that
 * address to the tasks. One per node in the store, whatever its state; a node removed from
 * the store (`node rm`) frees it with it. Pure: decides from the address book only.
 */
import { isTsswarmError } from '../../errors/index.js';
import type { Network, NetworkAttachment, Node } from '../../objects/index.js';
import { nodeHolder, type AddressBook } from './address-book.js';

function sameAttachments(a: readonly NetworkAttachment[], b: readonly NetworkAttachment[]): boolean {
  return a.length === b.length && a.every((x, i) => x.networkId === b[i]!.networkId && x.addresses.join(',') === b[i]!.addresses.join(','));
}

/**
 * The nodes whose attachments change: each gets one on `ingress` (kept if it holds one, else
 * allocated), and loses those on networks that no longer exist. A node the network has no
 * address left for is left without one (the next pass tries again). Idempotent.
 */
export function planNodeAttachments(book: AddressBook, nodes: readonly Node[], ingress: Network | undefined): Node[] {
  const changed: Node[] = [];
  for (const node of nodes) {
    const current = node.attachments ?? [];
    const next: NetworkAttachment[] = [];
    if (ingress !== undefined) {
      const kept = current.find((a) => a.networkId === ingress.id && a.addresses.length > 0 && a.addresses.every((addr) => book.heldBy(ingress.id, addr, nodeHolder(node))));
      if (kept !== undefined) next.push(kept);
      else {
        try {
          next.push({ networkId: ingress.id, addresses: [book.allocate(ingress.id, nodeHolder(node))], aliases: [], network: ingress });
        } catch (err) {
          if (!isTsswarmError(err)) throw err;
        }
      }
    }
    if (!sameAttachments(current, next)) changed.push({ ...node, attachments: next });
  }
  return changed;
}
