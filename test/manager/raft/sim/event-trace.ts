import { MessageType } from '../../../../src/manager/raft/types.js';
import type { Message, Ready } from '../../../../src/manager/raft/types.js';
import { bytesText } from './hash-chain.js';

/**
 * A bounded record of what the simulator did, kept cheap: events hold references to the
 * (immutable) messages and Readies and are only turned into text when a seed fails.
 */
type TraceEvent =
  | { readonly kind: 'deliver'; readonly msg: Message; readonly sender: string; readonly dup: boolean }
  | { readonly kind: 'ready'; readonly node: string; readonly rd: Ready; readonly phase: 'persist' | 'send+apply' }
  | { readonly kind: 'note'; readonly text: string };

interface Stamped {
  readonly step: number;
  readonly tick: number;
  readonly event: TraceEvent;
}

export class EventTrace {
  private readonly ring: (Stamped | undefined)[];
  private next = 0;
  step = 0;
  tick = 0;

  constructor(readonly capacity = 60) {
    this.ring = new Array<Stamped | undefined>(capacity);
  }

  record(event: TraceEvent): void {
    this.ring[this.next % this.capacity] = { step: this.step, tick: this.tick, event };
    this.next++;
  }

  note(text: string): void {
    this.record({ kind: 'note', text });
  }

  /** The last `count` events, oldest first, one line each. */
  lines(count = this.capacity): string[] {
    const out: string[] = [];
    const start = Math.max(0, this.next - Math.min(count, this.capacity));
    for (let i = start; i < this.next; i++) {
      const stamped = this.ring[i % this.capacity]!;
      out.push(`#${stamped.step} t${stamped.tick} ${formatEvent(stamped.event)}`);
    }
    return out;
  }
}

function formatEvent(event: TraceEvent): string {
  switch (event.kind) {
    case 'deliver':
      return `${event.dup ? 'dup ' : ''}${formatMessage(event.msg)}${event.sender !== event.msg.from ? ` (via ${event.sender})` : ''}`;
    case 'ready':
      return `${event.node} ${event.phase} ${formatReady(event.rd, event.phase)}`;
    case 'note':
      return event.text;
  }
}

export function formatMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${MessageType[m.type]} T${m.term}`];
  switch (m.type) {
    case MessageType.App:
      parts.push(`prev=${m.index}/${m.logTerm} ents=${formatEntryRange(m.entries)} commit=${m.commit}`);
      break;
    case MessageType.AppResp:
      parts.push(`idx=${m.index}${m.reject ? ` REJECT hint=${m.rejectHint}` : ''}`);
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`last=${m.index}/${m.logTerm}${m.context !== undefined ? ' transfer' : ''}`);
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      parts.push(m.reject ? 'REJECT' : 'granted');
      break;
    case MessageType.Snap:
      parts.push(`snap=${m.snapshot?.metadata.index}/${m.snapshot?.metadata.term}`);
      break;
    case MessageType.Heartbeat:
    case MessageType.HeartbeatResp:
      parts.push(`commit=${m.commit}${m.context !== undefined ? ` ctx=${bytesText(m.context)}` : ''}`);
      break;
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResp:
      parts.push(`idx=${m.index} ctx=${m.context !== undefined ? bytesText(m.context) : ''}`);
      break;
    default:
      break;
  }
  return parts.join(' ');
}

function formatEntryRange(entries: readonly Message['entries'][number][]): string {
  if (entries.length === 0) return '[]';
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  return `[${first.index}/${first.term}..${last.index}/${last.term}]`;
}

function formatReady(rd: Ready, phase: 'persist' | 'send+apply'): string {
  const parts: string[] = [];
  if (phase === 'persist') {
    if (rd.softState !== undefined) parts.push(`soft=${rd.softState.role}/${rd.softState.leader || '-'}`);
    if (rd.hardState !== undefined) {
      parts.push(`hs=T${rd.hardState.term},vote=${rd.hardState.vote || '-'},commit=${rd.hardState.commit}`);
    }
    if (rd.snapshot !== undefined) parts.push(`snap=${rd.snapshot.metadata.index}/${rd.snapshot.metadata.term}`);
    if (rd.entries.length > 0) parts.push(`ents=${formatEntryRange(rd.entries)}`);
  } else {
    if (rd.messages.length > 0) parts.push(`msgs=${rd.messages.length}`);
    if (rd.committedEntries.length > 0) parts.push(`apply=${formatEntryRange(rd.committedEntries)}`);
    if (rd.readStates.length > 0) parts.push(`reads=${rd.readStates.map((r) => r.index).join(',')}`);
  }
  return parts.join(' ');
}
