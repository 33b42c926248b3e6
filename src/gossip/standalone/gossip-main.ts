/**
 * One gossip node as a process of its own, driven over stdin: one JSON command per line
 * ({"id": 1, "cmd": "put", ...}), one JSON reply per line on stdout ({"id": 1, "ok": true,
 * "result": ...}), and every member/table event as {"event": ..., "at": <epoch ms>} lines.
 * Used by test/gossip/processes.test.ts and bench/gossip.ts; see gossip-process.ts.
 *
 *   node dist/src/gossip/standalone/gossip-main.js --id n1 --addr 127.46.1.1 --port 7946 \
 *     --keys HEX[,HEX...] [--seeds host:port,...] [--profile local|lan] [--networks a,b]
 */
import { Command } from 'commander';
import { createInterface } from 'node:readline';
import { errorMessage, isTsswarmError } from '../../errors/index.js';
import { createRootLogger } from '../../log/logger.js';
import type { GossipProfile } from '../config.js';
import { GossipNode } from '../node/gossip-node.js';

const list = (v: string | undefined): string[] => (v === undefined || v === '' ? [] : v.split(','));
const hexKey = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

async function main(): Promise<void> {
  const opts = new Command()
    .requiredOption('--id <id>')
    .requiredOption('--addr <ip>')
    .option('--port <port>', 'TCP and UDP port', '7946')
    .requiredOption('--keys <hex,...>')
    .option('--seeds <host:port,...>')
    .option('--profile <name>', 'lan or local', 'local')
    .option('--networks <a,b>')
    .parse()
    .opts<{ id: string; addr: string; port: string; keys: string; seeds?: string; profile: string; networks?: string }>();

  const write = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
  const node = await GossipNode.start({
    nodeId: opts.id,
    bindAddr: opts.addr,
    advertiseAddr: opts.addr,
    port: Number(opts.port),
    keys: list(opts.keys).map(hexKey),
    profile: opts.profile as GossipProfile,
    logger: createRootLogger({ base: { node: opts.id } }),
  });
  node.subscribe((e) => {
    const at = Date.now();
    if (e.kind === 'table') write({ event: { ...e, value: Buffer.from(e.value).toString() }, at });
    else write({ event: e, at });
  });
  for (const n of list(opts.networks)) node.joinNetwork(n);
  const seeds = list(opts.seeds);
  if (seeds.length > 0) node.join(seeds).catch(() => {});
  write({ ready: true, addr: node.advertiseAddr });

  type Cmd = { id: number; cmd: string; [k: string]: unknown };
  const handle = async (c: Cmd): Promise<unknown> => {
    const s = (k: string): string => String(c[k]);
    switch (c.cmd) {
      case 'members':
        return node.members();
      case 'join':
        return node.join(list(s('seeds')));
      case 'join-network':
        return node.joinNetwork(s('network'));
      case 'leave-network':
        return node.leaveNetwork(s('network'));
      case 'put':
        node.table(s('network'), s('table')).put(s('key'), new TextEncoder().encode(s('value')));
        return Date.now();
      case 'delete':
        return node.table(s('network'), s('table')).delete(s('key'));
      case 'entries':
        return node.table(s('network'), s('table')).entries().map((e) => ({ key: e.key, value: Buffer.from(e.value).toString(), owner: e.owner }));
      case 'stats':
        return node.stats();
      case 'block':
        return node.setBlockedHosts(list(s('hosts')));
      case 'set-keys':
        return node.setKeys(list(s('keys')).map(hexKey));
      case 'send-with-key':
        return node.sendProbeWithKey(s('to'), hexKey(s('key')));
      case 'send-plaintext':
        return node.sendPlaintext(s('to'), new Uint8Array([1, 1, 0, 5, 3, 0, 0, 0, 0]));
      case 'leave':
        await node.leave();
        return true;
      default:
        throw new Error(`unknown command ${c.cmd}`);
    }
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let c: Cmd;
    try {
      c = JSON.parse(line) as Cmd;
    } catch {
      return;
    }
    handle(c).then(
      (result) => write({ id: c.id, ok: true, result: result ?? null }),
      (err: unknown) => write({ id: c.id, ok: false, code: isTsswarmError(err) ? err.code : undefined, error: errorMessage(err) }),
    );
  });
  // The driver going away (stdin closed) ends the node.
  rl.on('close', () => void node.stop().then(() => process.exit(0)));
  const bye = (): void => void node.stop().then(() => process.exit(0));
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

main().catch((err: unknown) => {
  process.stderr.write(`gossip-main: ${errorMessage(err)}\n`);
  process.exit(1);
});
