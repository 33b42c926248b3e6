/**
 * Snapshot files in <dir>/snap, one per snapshot, named <index>-<term>.snap (16 hex digits
 * each) so that name order is index order.
 *
 * File layout: magic "TSSNAP01" (8) | crc32 of the body (4) | body, where the body is
 * index u64 | term u64 | voters | learners | data (the rest of the file), and a member list
 * is a u32 count then per member a u32 byte length and UTF-8 bytes.
 *
 * The newest two files are kept: if the newest is found damaged on open, the one before it
 * still joins the WAL when the WAL has not been released past it.
 */
import { readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../../log/logger.js';
import type { Snapshot } from '../types.js';
import { fsyncDir, io, writeFileAtomic } from './fs-util.js';
import { readU64, writeU64 } from './record-codec.js';

const MAGIC = Buffer.from('TSSNAP01', 'ascii');
const NAME_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
/** Why two: one to fall back on if the newest is damaged, and no more, to bound disk use. */
export const SNAPSHOTS_KEPT = 2;

export function snapshotFileName(index: number, term: number): string {
  return `${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.snap`;
}

function hexPair(name: string): { index: number; term: number } | undefined {
  const m = NAME_RE.exec(name);
  if (m === null) return undefined;
  return { index: Number.parseInt(m[1] ?? '', 16), term: Number.parseInt(m[2] ?? '', 16) };
}

function encodeMembers(ids: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]!.writeUInt32LE(ids.length, 0);
  for (const id of ids) {
    const bytes = Buffer.from(id, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length, 0);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

export function encodeSnapshotFile(snap: Snapshot): Buffer {
  const head = Buffer.alloc(16);
  writeU64(head, snap.metadata.index, 0);
  writeU64(head, snap.metadata.term, 8);
  const body = Buffer.concat([
    head,
    encodeMembers(snap.metadata.confState.voters),
    encodeMembers(snap.metadata.confState.learners),
    snap.data,
  ]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body), 0);
  return Buffer.concat([MAGIC, crc, body]);
}

/** Decodes a snapshot file; returns the reason it is unusable instead of throwing. */
export function decodeSnapshotFile(buf: Buffer): Snapshot | string {
  if (buf.length < 12 + 16 + 8 || !buf.subarray(0, 8).equals(MAGIC)) return 'bad snapshot magic or size';
  const body = buf.subarray(12);
  if (crc32(body) !== buf.readUInt32LE(8)) return 'snapshot CRC mismatch';
  const index = readU64(body, 0);
  const term = readU64(body, 8);
  if (index === undefined || term === undefined) return 'snapshot index or term out of range';
  let offset = 16;
  const members = (): string[] | undefined => {
    if (offset + 4 > body.length) return undefined;
    const count = body.readUInt32LE(offset);
    offset += 4;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      if (offset + 4 > body.length) return undefined;
      const len = body.readUInt32LE(offset);
      if (offset + 4 + len > body.length) return undefined;
      ids.push(body.toString('utf8', offset + 4, offset + 4 + len));
      offset += 4 + len;
    }
    return ids;
  };
  const voters = members();
  const learners = members();
  if (voters === undefined || learners === undefined) return 'snapshot member list truncated';
  return { metadata: { index, term, confState: { voters, learners } }, data: new Uint8Array(body.subarray(offset)) };
}

export class SnapshotStore {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Snapshot file names, newest (highest index) first. */
  private async list(): Promise<string[]> {
    const names = await io(this.dir, () => readdir(this.dir));
    return names.filter((n) => hexPair(n) !== undefined).sort().reverse();
  }

  /** The newest snapshot that reads back intact; damaged ones are logged and left for inspection. */
  async loadNewest(): Promise<Snapshot | undefined> {
    for (const name of await this.list()) {
      const path = join(this.dir, name);
      const decoded = decodeSnapshotFile(await io(path, () => readFile(path)));
      const named = hexPair(name);
      if (typeof decoded === 'string') {
        this.logger.warn({ file: path, reason: decoded }, 'skipping damaged snapshot file');
        continue;
      }
      if (named?.index !== decoded.metadata.index || named.term !== decoded.metadata.term) {
        this.logger.warn({ file: path }, 'skipping snapshot file whose content does not match its name');
        continue;
      }
      return decoded;
    }
    return undefined;
  }

  async hasAny(): Promise<boolean> {
    return (await this.list()).length > 0;
  }

  /** Writes the snapshot atomically, then removes all but the newest SNAPSHOTS_KEPT. */
  async save(snap: Snapshot): Promise<void> {
    await writeFileAtomic(this.dir, snapshotFileName(snap.metadata.index, snap.metadata.term), encodeSnapshotFile(snap));
    const stale = (await this.list()).slice(SNAPSHOTS_KEPT);
    for (const name of stale) await io(join(this.dir, name), () => unlink(join(this.dir, name)));
    if (stale.length > 0) await fsyncDir(this.dir);
  }
}
