/**
 * Tests that start real processes run the compiled JavaScript in dist/ (built by `npm test`
 * before vitest starts), so a child runs exactly what a user runs.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The compiled path of a repository .ts file (given as a file URL or an absolute path). */
export function compiledPath(source: URL | string): string {
  const sourcePath = source instanceof URL ? fileURLToPath(source) : source;
  const target = join(repoRoot, 'dist', relative(repoRoot, sourcePath)).replace(/\.ts$/, '.js');
  if (!existsSync(target)) {
    throw new Error(`${target} is missing: run \`npm run build\` (npm test does it) before this test`);
  }
  if (existsSync(sourcePath) && statSync(sourcePath).mtimeMs > statSync(target).mtimeMs) {
    throw new Error(`${target} is older than ${sourcePath}: run \`npm run build\` before this test`);
  }
  return target;
}
