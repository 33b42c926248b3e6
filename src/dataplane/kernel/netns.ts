import { mkdir, readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TsswarmError } from '../../errors/index.js';
import { runScript, shq } from './script-runner.js';

/**
 * Named network namespaces kept as nsfs bind mounts under a directory of the caller's choice
 * (a daemon's run dir, a test bed's dir), not only /run/netns, so that several daemons on one
 * machine never collide. `ip netns` works only with /run/netns, hence unshare + nsenter.
 */

/** Creates the namespaces (files dir/NAME) with one shell, skipping none: all must be new. */
export async function createNamespaces(dir: string, names: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const res = await runScript(names.map((n) => ({ raw: `: > ${shq(`${dir}/${n}`)} && unshare --net=${shq(`${dir}/${n}`)} true` })));
  res.forEach((r, i) => {
    if (r.code !== 0) {
      throw new TsswarmError('KERNEL_OP_FAILED', { op: 'netns add', object: `${dir}/${names[i]}`, reason: r.stderr.trim() });
    }
  });
}

/** Mount points at or under dir, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = resolve(dir);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Unmounts every namespace file under dir and removes the directory. Namespaces with no other
 * reference disappear with everything in them.
 */
export async function removeNamespaceTree(dir: string): Promise<void> {
  const points = await mountsUnder(dir);
  if (points.length > 0) {
    const res = await runScript(points.map((p) => ({ raw: `umount ${shq(p)} || umount -l ${shq(p)}` })));
    res.forEach((r, i) => {
      if (r.code !== 0) {
        throw new TsswarmError('KERNEL_OP_FAILED', { op: 'umount', object: points[i] ?? dir, reason: r.stderr.trim() });
      }
    });
  }
  await rm(dir, { recursive: true, force: true });
}
