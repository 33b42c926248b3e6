/**
 * Published ports of ingress mode. Such a port is opened on every node, so each port number (per
 * protocol) belongs to one service in the whole cluster. A port given by the user is taken as
 * is; one left out comes from the dynamic range (30000-32767 by default, as Docker Swarm),
 * through a rotating cursor so that a port a removed service used is not handed straight to a
 * new one while clients may still connect to it. Host-mode ports are not allocated here: the
 * scheduler places those tasks where the port is free.
 */
import { TsswarmError } from '../../errors/index.js';
import { Bitmap } from './bitmap.js';
import { invalid } from './invalid.js';

export const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

export const MAX_PORT = 65535;

export interface PortRange {
  /** First port of the dynamic range, inclusive. */
  readonly start: number;
  /** Last port of the dynamic range, inclusive. */
  readonly end: number;
}

export interface PortRequest {
  readonly protocol: PortProtocol;
  /** The port to publish; undefined or 0: one from the dynamic range. */
  readonly publishedPort?: number | undefined;
}

export interface PublishedPort {
  readonly protocol: PortProtocol;
  readonly publishedPort: number;
  /** Whether the port came from the dynamic range (and may be renumbered when re-created). */
  readonly auto: boolean;
}

export interface PortState {
  /** Each owner (service ID) with its ports, sorted by owner. */
  readonly owners: readonly { readonly owner: string; readonly ports: readonly PublishedPort[] }[];
  /** Per protocol, where the rotating search resumes; absent: after the highest automatic port. */
  readonly next?: Partial<Record<PortProtocol, number>> | undefined;
}

interface Space {
  readonly bits: Bitmap;
  readonly holders: Map<number, string>;
  cursor: number;
}

const key = (protocol: PortProtocol, port: number): string => `${port}/${protocol}`;

export class PublishedPortAllocator {
  private readonly spaces: Record<PortProtocol, Space>;
  private readonly owners = new Map<string, readonly PublishedPort[]>();

  constructor(readonly range: PortRange) {
    const { start, end } = range;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end > MAX_PORT || start > end) {
      throw invalid(`dynamic port range ${start}-${end}`, `it must lie within 1-${MAX_PORT} with start <= end`, 'use e.g. 30000-32767, the default');
    }
    const space = (): Space => ({ bits: new Bitmap(MAX_PORT + 1), holders: new Map(), cursor: start });
    this.spaces = { tcp: space(), udp: space(), sctp: space() };
  }

  static restore(range: PortRange, state: PortState): PublishedPortAllocator {
    const allocator = new PublishedPortAllocator(range);
    for (const { owner, ports } of state.owners) {
      for (const port of ports) {
        allocator.checkRequest(port);
        allocator.take(owner, port.protocol, port.publishedPort);
      }
      allocator.owners.set(owner, ports.map((port) => ({ ...port })));
    }
    for (const protocol of PORT_PROTOCOLS) {
      const space = allocator.spaces[protocol];
      const next = state.next?.[protocol];
      if (next !== undefined) {
        space.cursor = next;
        continue;
      }
      let highest = range.start - 1;
      for (const ports of allocator.owners.values()) {
        for (const port of ports) {
          if (port.protocol === protocol && port.auto && port.publishedPort <= range.end) highest = Math.max(highest, port.publishedPort);
        }
      }
      space.cursor = highest >= range.end ? range.start : highest + 1;
    }
    return allocator;
  }

  /**
   * Makes `owner`'s ports exactly those requested, all or nothing: on any error nothing changes.
   * Ports the owner already holds stay with it: an explicit port it holds is kept, and its
   * automatic ports are reused, lowest first, for its automatic requests of the same protocol,
   * so that updating a service does not renumber the ports its clients use.
   * Throws IPAM_INVALID, IPAM_PORT_IN_USE or IPAM_PORTS_EXHAUSTED.
   */
  assign(owner: string, requests: readonly PortRequest[]): PublishedPort[] {
    const explicit = new Set<string>();
    for (const request of requests) {
      this.checkRequest(request);
      const port = request.publishedPort ?? 0;
      if (port === 0) continue;
      if (explicit.has(key(request.protocol, port))) {
        throw invalid(`published port ${key(request.protocol, port)}`, 'it is given twice', 'publish each port once');
      }
      explicit.add(key(request.protocol, port));
      const holder = this.spaces[request.protocol].holders.get(port);
      if (holder !== undefined && holder !== owner) {
        throw new TsswarmError('IPAM_PORT_IN_USE', { port, protocol: request.protocol, owner: holder, start: this.range.start, end: this.range.end });
      }
    }
    const old = this.owners.get(owner) ?? [];
    const reusable = old
      .filter((port) => port.auto && !explicit.has(key(port.protocol, port.publishedPort)))
      .sort((a, b) => a.publishedPort - b.publishedPort);
    const cursors = PORT_PROTOCOLS.map((protocol) => this.spaces[protocol].cursor);
    for (const port of old) this.free(port.protocol, port.publishedPort);

    const result: PublishedPort[] = [];
    try {
      for (const { protocol, publishedPort } of requests) {
        if (publishedPort !== undefined && publishedPort !== 0) {
          this.take(owner, protocol, publishedPort);
          result.push({ protocol, publishedPort, auto: false });
          continue;
        }
        const reuse = reusable.findIndex((port) => port.protocol === protocol);
        const port = reuse >= 0 ? reusable.splice(reuse, 1)[0]!.publishedPort : this.nextFree(protocol);
        this.take(owner, protocol, port);
        result.push({ protocol, publishedPort: port, auto: true });
      }
    } catch (err) {
      // Roll back: the ports taken so far go, the old ones and the cursors come back.
      for (const port of result) this.free(port.protocol, port.publishedPort);
      for (const port of old) this.take(owner, port.protocol, port.publishedPort);
      PORT_PROTOCOLS.forEach((protocol, i) => (this.spaces[protocol].cursor = cursors[i]!));
      throw err;
    }
    if (result.length === 0) this.owners.delete(owner);
    else this.owners.set(owner, result);
    return result.map((port) => ({ ...port }));
  }

  /** Frees all of `owner`'s ports (its service was removed); returns them. */
  release(owner: string): PublishedPort[] {
    const ports = this.owners.get(owner) ?? [];
    for (const port of ports) this.free(port.protocol, port.publishedPort);
    this.owners.delete(owner);
    return ports.map((port) => ({ ...port }));
  }

  portsOf(owner: string): PublishedPort[] {
    return (this.owners.get(owner) ?? []).map((port) => ({ ...port }));
  }

  /** The owner of a port, if any. */
  holderOf(protocol: PortProtocol, port: number): string | undefined {
    return this.spaces[protocol].holders.get(port);
  }

  serialize(): PortState {
    const owners = [...this.owners.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([owner, ports]) => ({ owner, ports: ports.map((port) => ({ ...port })) }));
    return { owners, next: { tcp: this.spaces.tcp.cursor, udp: this.spaces.udp.cursor, sctp: this.spaces.sctp.cursor } };
  }

  private checkRequest(request: PortRequest): void {
    if (!(PORT_PROTOCOLS as readonly string[]).includes(request.protocol)) {
      throw invalid(`protocol ${JSON.stringify(request.protocol)}`, 'it is not a protocol that can be published', 'use tcp, udp or sctp');
    }
    const port = request.publishedPort;
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > MAX_PORT)) {
      throw invalid(`published port ${port}`, `it is not a port number 1-${MAX_PORT}`, 'give a port 1-65535, or leave published= out to get a free one');
    }
  }

  private nextFree(protocol: PortProtocol): number {
    const space = this.spaces[protocol];
    const port = space.bits.findClearRotating(this.range.start, this.range.end, space.cursor);
    if (port < 0) throw new TsswarmError('IPAM_PORTS_EXHAUSTED', { start: this.range.start, end: this.range.end, protocol });
    space.cursor = port === this.range.end ? this.range.start : port + 1;
    return port;
  }

  private take(owner: string, protocol: PortProtocol, port: number): void {
    const space = this.spaces[protocol];
    const holder = space.holders.get(port);
    if (holder !== undefined) {
      throw new TsswarmError('IPAM_PORT_IN_USE', { port, protocol, owner: holder, start: this.range.start, end: this.range.end });
    }
    space.bits.set(port);
    space.holders.set(port, owner);
  }

  private free(protocol: PortProtocol, port: number): void {
    const space = this.spaces[protocol];
    space.bits.clear(port);
    space.holders.delete(port);
  }
}
