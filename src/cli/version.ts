import { readFileSync } from 'node:fs';

/** tsswarm's version (package.json), which is also the ENGINE VERSION nodes report. */
export function tsswarmVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
