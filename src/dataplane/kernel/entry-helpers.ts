import { spawn, type ChildProcess } from 'node:child_process';
import type { EntryOp, HelperReply, HelperRequest } from './netlink-helper.js';

/**
 * The netlink helpers (./netlink-helper.ts), one per overlay namespace, started ahead of use
 * and used only once they said "ready": a caller that finds none ready takes the iproute2
 * path instead, so a helper never delays or breaks a reconcile. A helper is bound to the
 * namespace instance (inode) it entered; a recreated namespace gets a new one.
 */
interface Helper {
  readonly child: ChildProcess;
  readonly inode: number;
  ready: boolean;
  readonly pending: Map<number, (r: HelperReply) => void>;
  /**
   * The entries as of the helper's last read reply: replies after the first carry only what
   * changed since the previous one (the helper follows the kernel's notifications).
   */
  entries?: { neigh: Set<string>; fdb: Set<string> };
}

export class EntryHelpers {
  private readonly helpers = new Map<string, Helper>();
  private nextId = 1;

  constructor(private readonly script: string) {}

  /** Starts a helper for the namespace if there is none for this inode (does not wait). */
  warm(nsPath: string, inode: number): void {
    const h = this.helpers.get(nsPath);
    if (h !== undefined && h.inode === inode) return;
    if (h !== undefined) this.stop(nsPath);
    const child = spawn('nsenter', [`--net=${nsPath}`, process.execPath, this.script], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const helper: Helper = { child, inode, ready: false, pending: new Map() };
    child.on('message', (raw: unknown) => {
      const reply = raw as HelperReply;
      if (reply.kind === 'ready') helper.ready = true;
      const done = helper.pending.get(reply.id);
      helper.pending.delete(reply.id);
      done?.(reply);
    });
    const gone = () => {
      if (this.helpers.get(nsPath) === helper) this.helpers.delete(nsPath);
      for (const done of helper.pending.values()) done({ id: -1, kind: 'error', error: 'netlink helper exited' });
      helper.pending.clear();
    };
    child.on('exit', gone);
    child.on('error', gone);
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.helpers.set(nsPath, helper);
  }

  /** Whether a ready helper serves this namespace instance. */
  ready(nsPath: string, inode: number): boolean {
    const h = this.helpers.get(nsPath);
    return h !== undefined && h.ready && h.inode === inode;
  }

  /** The namespace's permanent VXLAN neighbour and FDB entries, as the kernel has them now. */
  read(nsPath: string, refresh = false): Promise<{ neigh: ReadonlySet<string>; fdb: ReadonlySet<string> }> {
    const h = this.helpers.get(nsPath);
    // Without a previous answer there is nothing to apply changes to: ask for everything.
    return this.request(nsPath, { kind: 'read', refresh: refresh || h?.entries === undefined }).then((r) => {
      if (r.kind !== 'read') {
        if (h !== undefined) h.entries = undefined;
        throw new Error(r.kind === 'error' ? r.error : 'unexpected reply');
      }
      if (h === undefined) return { neigh: new Set(r.neigh), fdb: new Set(r.fdb) };
      // Replies arrive in request order, so each delta applies to the previous reply's state.
      if (r.full || h.entries === undefined) h.entries = { neigh: new Set(r.neigh), fdb: new Set(r.fdb) };
      else {
        for (const x of r.neighGone) h.entries.neigh.delete(x);
        for (const x of r.fdbGone) h.entries.fdb.delete(x);
        for (const x of r.neigh) h.entries.neigh.add(x);
        for (const x of r.fdb) h.entries.fdb.add(x);
      }
      return h.entries;
    });
  }

  apply(nsPath: string, ops: readonly EntryOp[]): Promise<(string | null)[]> {
    return this.request(nsPath, { kind: 'apply', ops }).then((r) => {
      if (r.kind !== 'apply') throw new Error(r.kind === 'error' ? r.error : 'unexpected reply');
      return r.errors;
    });
  }

  /**
   * A read whose answer is only kept here, off the path of the next real read: with refresh,
   * it refreshes the helper's device cache after links changed; without, it takes over the
   * changes the helper has followed since its last reply.
   */
  prime(nsPath: string, refresh: boolean): Promise<void> {
    const h = this.helpers.get(nsPath);
    if (h === undefined || !h.ready) return Promise.resolve();
    return this.read(nsPath, refresh).then(
      () => undefined,
      () => undefined,
    );
  }

  stop(nsPath: string): void {
    const h = this.helpers.get(nsPath);
    this.helpers.delete(nsPath);
    h?.child.kill('SIGKILL');
  }

  /** Stops every helper (they also exit by themselves when this process goes away). */
  close(): void {
    for (const p of [...this.helpers.keys()]) this.stop(p);
  }

  private request(
    nsPath: string,
    body: { kind: 'read'; refresh: boolean } | { kind: 'apply'; ops: readonly EntryOp[] },
  ): Promise<HelperReply> {
    const h = this.helpers.get(nsPath);
    if (h === undefined || !h.ready) return Promise.reject(new Error('no ready netlink helper'));
    const id = this.nextId++;
    const req: HelperRequest = { id, ...body };
    const child = h.child;
    (child.channel as { ref?: () => void } | undefined)?.ref?.();
    return new Promise<HelperReply>((resolve) => {
      h.pending.set(id, resolve);
      child.send(req);
    }).finally(() => {
      if (h.pending.size === 0) (child.channel as { unref?: () => void } | undefined)?.unref?.();
    });
  }
}
