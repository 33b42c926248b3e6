/**
 * The few file-system steps storage relies on for durability, each turning a Node error into
 * STORAGE_IO naming the file.
 */
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TsswarmError, errorMessage } from '../../../errors/index.js';

export const TMP_SUFFIX = '.tmp';

export function ioError(file: string, err: unknown): TsswarmError {
  if (err instanceof TsswarmError) return err;
  return new TsswarmError('STORAGE_IO', { file, reason: errorMessage(err) }, { cause: err });
}

export async function io<T>(file: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw ioError(file, err);
  }
}

/** A new, renamed or removed name is durable only once its directory is fsync'ed. */
export async function fsyncDir(dir: string): Promise<void> {
  await io(dir, async () => {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
}

/** write(2) may write less than asked; loop until all of buf is at position. */
export async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Creates path atomically with the given content: temp file, fdatasync, rename, fsync dir.
 * After a crash either the old state or the whole new file exists (plus maybe a temp file,
 * which removeTempFiles deletes on the next open).
 */
export async function writeFileAtomic(dir: string, name: string, content: Uint8Array): Promise<void> {
  const path = join(dir, name);
  const tmp = path + TMP_SUFFIX;
  await io(tmp, async () => {
    const fh = await open(tmp, 'w');
    try {
      await writeAll(fh, content, 0);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  });
  await io(path, () => rename(tmp, path));
  await fsyncDir(dir);
}

/** Removes temp files left by a crash mid-writeFileAtomic; returns their names. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const names = (await io(dir, () => readdir(dir))).filter((n) => n.endsWith(TMP_SUFFIX));
  for (const n of names) await io(join(dir, n), () => unlink(join(dir, n)));
  if (names.length > 0) await fsyncDir(dir);
  return names;
}
