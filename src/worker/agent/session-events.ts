import type { EncryptionKey, NetworkAttachment, Node } from '../../objects/index.js';
import type { WeightedPeer } from '../../manager/dispatcher/messages.js';

/**
 * What the agent tells the daemon about its session, each event only when its value CHANGED
 * (the first value after start counts as a change). All listeners run synchronously on the
 * agent's event loop turn; a listener that throws is logged and ignored, it never breaks the
 * session. Values are deep-frozen snapshots: keep them, do not mutate them.
 */
export interface SessionEvents {
  /**
   * The node's own Node object as the managers see it. The daemon watches
   * `spec.desiredRole` against `role` (promote/demote: renew the certificate with the new
   * role, then start or stop its ManagerRuntime), `spec.availability` and `status`.
   */
  node: (node: Node) => void;
  /**
   * The managers the agent may open a session to (host:port of their 2377, leader first by
   * weight). The agent already uses them for failover; the daemon persists them so a
   * restarted worker knows where to go (the one it joined through may be gone).
   */
  managers: (managers: readonly WeightedPeer[]) => void;
  /**
   * The roots the cluster trusts, PEM (during a CA rotation: old root + new root + the
   * cross-signed certificate). The daemon compares them with its stored root to notice a
   * rotation and re-issue its certificate.
   */
  rootCa: (rootCaPem: string) => void;
  /** The network bootstrap keys (gossip and encrypted overlays), newest lamport time last. */
  networkKeys: (keys: readonly EncryptionKey[]) => void;
  /**
   * The node's own overlay addresses from the managers (Node.attachments): its load-balancer
   * address on the ingress network, with the Network as allocated (the routing mesh's
   * ingress sandbox plumbs it). Empty while there is none (no ingress network, or not yet
   * allocated); the first session message counts as a change, empty or not.
   */
  nodeAttachments: (attachments: readonly NetworkAttachment[]) => void;
  /** The cluster's heartbeat period in ms (`--dispatcher-heartbeat`). */
  heartbeatPeriod: (periodMs: number) => void;
  /**
   * The session opened (`connected`, with the manager's address and the session ID) or
   * broke (`disconnected`, with the error code that broke it). Tasks keep running meanwhile.
   */
  connection: (state: ConnectionState) => void;
}

export type ConnectionState =
  | { readonly state: 'connected'; readonly managerAddr: string; readonly sessionId: string }
  | { readonly state: 'disconnected'; readonly managerAddr: string; readonly reason: string };

export type SessionEventName = keyof SessionEvents;

/** A minimal typed emitter: on() adds a listener and returns the function that removes it. */
export class SessionEmitter {
  private readonly listeners = new Map<SessionEventName, Set<(value: never) => void>>();

  constructor(private readonly onListenerError: (event: SessionEventName, err: unknown) => void) {}

  on<E extends SessionEventName>(event: E, listener: SessionEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as unknown as (value: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  emit<E extends SessionEventName>(event: E, value: Parameters<SessionEvents[E]>[0]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as unknown as (v: typeof value) => void)(value);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}
