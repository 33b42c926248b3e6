#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerClusterCommands } from './commands/cluster.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('tsswarm')
  .description('A Swarm-mode cluster agent: Raft-replicated managers, gossip, and a Linux dataplane')
  .version(pkg.version, '-v, --version');

registerClusterCommands(program);

await program.parseAsync(process.argv);
