import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task, TaskStatus } from '../../objects/index.js';
import type { RuntimeRef } from '../runtime/runtime.js';
import { withoutNulls } from '../../util/without-nulls.js';

/** What the node keeps about one task, so a restarted executor adopts it. */
export interface TaskRecord {
  readonly task: Task;
  readonly status: TaskStatus;
  readonly ref?: RuntimeRef;
  readonly prepared: boolean;
  /** The sandbox's namespace once ensured; cleared when released. */
  readonly netnsPath?: string;
  /** A sandbox was asked for (ensure may have failed halfway): it must be released. */
  readonly sandbox?: boolean;
  readonly stopReason?: 'shutdown' | 'unhealthy';
}

const RECORD = 'task.json';
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * One directory per task under DATA/tasks (the task's record, and the runtime's files: logs,
 * exit code, hosts, resolv.conf, work dir). Records are written atomically (temp file, fsync,
 * rename, fsync of the directory): a crash leaves the old record or the new one.
 */
export class TaskStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'tasks');
  }

  /** The task's directory; throws on an ID that is not a plain name (no path tricks). */
  dir(taskId: string): string {
    if (!ID.test(taskId)) throw new Error(`task ID ${JSON.stringify(taskId)} is not a plain name`);
    return join(this.root, taskId);
  }

  async save(record: TaskRecord): Promise<void> {
    const dir = this.dir(record.task.id);
    await mkdir(dir, { recursive: true });
    const path = join(dir, RECORD);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  /** Every readable record; unreadable ones are returned as IDs so they can be cleaned. */
  async loadAll(): Promise<{ records: TaskRecord[]; broken: string[] }> {
    const records: TaskRecord[] = [];
    const broken: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return { records, broken };
    }
    for (const name of names.sort()) {
      if (!ID.test(name)) continue;
      try {
        // Records written before tasks were cleaned of wire nulls may hold them: read them as absent.
        records.push(withoutNulls(JSON.parse(await readFile(join(this.root, name, RECORD), 'utf8')) as TaskRecord));
      } catch {
        broken.push(name);
      }
    }
    return { records, broken };
  }

  async remove(taskId: string): Promise<void> {
    await rm(this.dir(taskId), { recursive: true, force: true });
  }
}
