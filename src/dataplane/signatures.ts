import type { NsName } from './kernel/types.js';
import type { DesiredState, NetworkSpec, SandboxSpec } from './model.js';
import { overlayNs, sandboxNs } from './naming.js';

/** Fingerprints of a desired state, by namespace (see Reconciler's read-back policy). */
export interface Signatures {
  /** Per namespace: everything but remote endpoints (a change means a full read-back). */
  readonly structure: ReadonlyMap<NsName, string>;
  /**
   * Per overlay namespace: a version of its remote endpoints, new whenever their set differs
   * from the previous call's (a change means reading its entries). A set that comes back gets
   * a new version too: that costs one entries read, never a skipped one.
   */
  readonly entries: ReadonlyMap<NsName, string>;
  /** What the host namespace's part depends on: the sandboxes on docker_gwbridge, the ingress sandbox and its published ports. */
  readonly host: string;
  /** Sandbox namespaces whose target has an nft table (load balancers or ingress). */
  readonly nftNs: ReadonlySet<NsName>;
  /** Ingress sandbox namespaces (they forward: ip_forward is read back there). */
  readonly ingressNs: ReadonlySet<NsName>;
  /** Everything but the remote endpoints, as one string. */
  readonly structureKey: string;
}

/**
 * Computes Signatures call after call, doing only the work that a change calls for: the
 * structure part is recomputed only when the networks or sandboxes are not the very same
 * objects as last time (desired states are immutable: `readonly` all the way down), and a remote
 * endpoint set is compared with the previous one as a set (no sorting, no joined strings).
 * This is what keeps a one-peer change to a node with hundreds of sandboxes cheap.
 */
export class SignatureTracker {
  private structureOf:
    | { readonly networks: readonly NetworkSpec[]; readonly sandboxes: readonly SandboxSpec[]; readonly sigs: Omit<Signatures, 'entries'> }
    | undefined;
  private readonly remoteSets = new Map<string, { readonly keys: Set<string>; readonly version: string }>();
  private nextVersion = 1;
  /** Per sandbox object: its JSON (the object is immutable, so the string never goes stale). */
  private readonly json = new WeakMap<object, string>();

  compute(desired: DesiredState): Signatures {
    let s = this.structureOf;
    if (s === undefined || !sameItems(s.networks, desired.networks) || !sameItems(s.sandboxes, desired.sandboxes)) {
      s = { networks: desired.networks, sandboxes: desired.sandboxes, sigs: this.structure(desired) };
      this.structureOf = s;
    }
    return { ...s.sigs, entries: this.entries(desired) };
  }

  private structure(desired: DesiredState): Omit<Signatures, 'entries'> {
    const structure = new Map<NsName, string>();
    const members = new Map<string, string[]>();
    const nets = new Map(desired.networks.map((n) => [n.id, this.jsonOf(n)]));
    const gw: string[] = [];
    const ingress: string[] = [];
    const nftNs = new Set<NsName>();
    const ingressNs = new Set<NsName>();
    for (const s of desired.sandboxes) {
      if ((s.loadBalancers?.length ?? 0) > 0 || s.ingress === true) nftNs.add(sandboxNs(s.id));
      if (s.ingress === true) {
        ingressNs.add(sandboxNs(s.id));
        ingress.push(JSON.stringify([s.id, (s.loadBalancers ?? []).map((lb) => lb.ports ?? [])]));
      }
      // A sandbox's interfaces also depend on its networks (MTU, prefix length).
      structure.set(sandboxNs(s.id), `[${this.jsonOf(s)},[${s.endpoints.map((e) => nets.get(e.network) ?? '""').join(',')}]]`);
      if (s.gateway !== false) gw.push(s.id);
      for (const e of s.endpoints) {
        const l = members.get(e.network) ?? [];
        l.push(`${s.id} ${e.ip} ${e.mac}`);
        members.set(e.network, l);
      }
    }
    for (const n of desired.networks) structure.set(overlayNs(n.id), JSON.stringify([n, (members.get(n.id) ?? []).sort()]));
    const host = `${gw.sort().join(',')}|${ingress.join(',')}`;
    const structureKey = JSON.stringify([host, [...structure].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
    return { structure, host, structureKey, nftNs, ingressNs };
  }

  private entries(desired: DesiredState): Map<NsName, string> {
    const byNet = new Map<string, Set<string>>(desired.networks.map((n) => [n.id, new Set<string>()]));
    for (const r of desired.remotes) byNet.get(r.network)?.add(`${r.ip} ${r.mac} ${r.vtep}`);
    const out = new Map<NsName, string>();
    for (const [id, keys] of byNet) {
      const prev = this.remoteSets.get(id);
      let version = prev?.version;
      if (prev === undefined || !sameSet(prev.keys, keys)) {
        version = `v${this.nextVersion++}`;
        this.remoteSets.set(id, { keys, version });
      }
      out.set(overlayNs(id), version as string);
    }
    for (const id of [...this.remoteSets.keys()]) if (!byNet.has(id)) this.remoteSets.delete(id);
    return out;
  }

  private jsonOf(o: object): string {
    let j = this.json.get(o);
    if (j === undefined) {
      j = JSON.stringify(o);
      this.json.set(o, j);
    }
    return j;
  }
}

/** The same objects in the same order (pointer comparison: cheap, and exact for immutable data). */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of b) if (!a.has(x)) return false;
  return true;
}
