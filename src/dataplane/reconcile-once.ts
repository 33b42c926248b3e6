import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { managedSysctls } from './dataplane.js';
import { OVERLAY_NS_SYSCTLS } from './plan/compile-target.js';
import { LinuxKernel } from './kernel/linux-kernel.js';
import { parseDataplaneConfig, type DesiredState } from './model.js';
import { Reconciler } from './reconciler.js';

/**
 * `node reconcile-once.js FILE`: reconciles once from a JSON file {config, desired} and prints
 * the report as JSON. A debugging tool, and the process that crash tests kill -9 midway:
 * with TSSWARM_DATAPLANE_PAUSE_AFTER_STAGE=N it prints "paused after stage N" once that stage
 * is applied and waits there forever.
 */
const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: reconcile-once FILE.json\n');
  process.exit(2);
}
const input = JSON.parse(await readFile(file, 'utf8')) as { config: unknown; desired: DesiredState };
const config = parseDataplaneConfig(input.config);
const pauseAt = process.env.TSSWARM_DATAPLANE_PAUSE_AFTER_STAGE;
const kernel = new LinuxKernel({
  netnsDir: join(config.runDir, 'netns'),
  hostNsPath: config.hostNsPath,
  sysctls: managedSysctls(config),
  overlaySysctls: OVERLAY_NS_SYSCTLS,
  afterStage: async (stage) => {
    if (pauseAt !== undefined && Number(pauseAt) === stage) {
      process.stdout.write(`paused after stage ${stage}\n`);
      await new Promise(() => setInterval(() => undefined, 1 << 30)); // a timer keeps the process alive
    }
  },
});
const report = await new Reconciler(kernel, config).reconcile(input.desired);
process.stdout.write(JSON.stringify(report) + '\n');
