import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerClient } from '../worker/runtime/docker-client.js';
import { containerName } from '../worker/runtime/docker-runtime.js';

/**
 * The Docker containers the hosts' daemons made. Containers carry only their task's ID (label
 * and name `tsswarm-TASKID`), not the node's, and live outside the hosts' namespaces, so they
 * are found through the task directories the daemons' executors keep (DATA/.../tasks/TASKID).
 * Task IDs are random, so this never touches another test bed's or machine daemon's containers.
 */

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Names of the entries of every `tasks` directory at most `depth` levels under dir. */
export async function taskIdsUnder(dir: string, depth = 4): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (d: string, left: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(d, e.name);
      if (e.name === 'tasks') {
        const ids = await readdir(path).catch(() => []);
        ids.filter((id) => TASK_ID.test(id)).forEach((id) => found.add(id));
      } else if (left > 0) {
        await walk(path, left - 1);
      }
    }
  };
  await walk(dir, depth);
  return [...found].sort();
}

/**
 * Removes (force) the containers of these tasks if a Docker Engine answers on the socket;
 * returns how many task containers were asked to go, 0 when there is no engine.
 */
export async function removeTaskContainers(taskIds: readonly string[], socketPath = '/var/run/docker.sock', timeoutMs = 30_000): Promise<number> {
  if (taskIds.length === 0) return 0;
  const client = new DockerClient(socketPath, timeoutMs);
  try {
    await client.ping();
  } catch {
    return 0; // no engine: the daemons cannot have made containers in it
  }
  for (const id of taskIds) await client.removeContainer(containerName(id));
  return taskIds.length;
}
