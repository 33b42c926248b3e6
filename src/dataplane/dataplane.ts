import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { LinuxKernel } from './kernel/linux-kernel.js';
import { parseDataplaneConfig, type DataplaneConfig } from './model.js';
import { OVERLAY_NS_SYSCTLS, localnetSysctl } from './plan/compile-target.js';
import { Reconciler } from './reconciler.js';

/**
 * The host sysctls the dataplane sets and reads back: forwarding (gwbridge, routing mesh) and
 * route_localnet on the gwbridge (the routing mesh's 127.0.0.1:PORT is DNAT-ed out through it).
 */
export function managedSysctls(cfg: DataplaneConfig): string[] {
  return ['net.ipv4.ip_forward', localnetSysctl(cfg)];
}

export interface Dataplane {
  readonly config: DataplaneConfig;
  readonly kernel: LinuxKernel;
  readonly reconciler: Reconciler;
}

/** Wires the real kernel to a reconciler for one node. Input is validated (CONFIG_INVALID). */
export function createLinuxDataplane(input: unknown, logger?: Logger): Dataplane {
  const config = parseDataplaneConfig(input);
  const kernel = new LinuxKernel({
    netnsDir: join(config.runDir, 'netns'),
    hostNsPath: config.hostNsPath,
    sysctls: managedSysctls(config),
    overlaySysctls: OVERLAY_NS_SYSCTLS,
  });
  return { config, kernel, reconciler: new Reconciler(kernel, config, logger !== undefined ? { logger } : {}) };
}
