#!/usr/bin/env node
import { Command } from 'commander';
import { registerClusterCommands } from './commands/cluster.js';
import { registerDaemon } from './commands/daemon.js';
import { registerCa } from './commands/ca.js';
import { registerInfo } from './commands/info.js';
import { registerInit } from './commands/init.js';
import { registerJoin } from './commands/join.js';
import { registerJoinToken } from './commands/join-token.js';
import { registerLeave } from './commands/leave.js';
import { registerNetworkCommands } from './commands/network/index.js';
import { registerNodeCommands } from './commands/node/index.js';
import { registerServiceCommands } from './commands/service/index.js';
import { registerUpdate } from './commands/update.js';
import { registerWhoami } from './commands/whoami.js';
import { tsswarmVersion } from './version.js';

const program = new Command()
  .name('tsswarm')
  .description('A Swarm-mode cluster agent: Raft-replicated managers, gossip, and a Linux dataplane')
  .version(tsswarmVersion(), '-v, --version')
  .option('-H, --host <socket>', 'daemon socket to talk to, unix:///path (default $TSSWARM_HOST or unix:///run/tsswarm/tsswarm.sock)')
  .option('-D, --debug', 'on errors, also print the stable error code');

registerDaemon(program);
registerInit(program);
registerJoin(program);
registerJoinToken(program);
registerInfo(program);
registerLeave(program);
registerUpdate(program);
registerCa(program);
registerNodeCommands(program);
registerServiceCommands(program);
registerNetworkCommands(program);
registerClusterCommands(program);
registerWhoami(program);

await program.parseAsync(process.argv);
