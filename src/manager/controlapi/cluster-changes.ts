import { TsswarmError } from '../../errors/index.js';
import type { ClusterSpec } from '../store/index.js';
import { parseDuration } from './duration.js';
import type { UpdateClusterRequest } from './messages.js';

const HOUR_MS = 3_600_000;

function duration(flag: string, text: string, min: number, max: number, range: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < min || ms > max) {
    throw new TsswarmError('SWARM_INVALID_OPTION', { option: flag, value: JSON.stringify(text), reason: `it must be a duration like 5s or 2160h, ${range}` });
  }
  return ms;
}

/**
 * The Cluster spec after `tsswarm update`; bad input throws and nothing is written. The
 * ranges are init's (src/daemon/init-options.ts): heartbeats of 100 ms to 24 h, certificates
 * of at least 1 h. Autolock cannot be turned on: nothing is encrypted at rest yet.
 */
export function updatedClusterSpec(spec: ClusterSpec, req: UpdateClusterRequest): ClusterSpec {
  let autolockManagers = spec.autolockManagers;
  if (req.autolock !== '') {
    if (req.autolock !== 'true' && req.autolock !== 'false') {
      throw new TsswarmError('SWARM_INVALID_OPTION', { option: '--autolock', value: JSON.stringify(req.autolock), reason: 'it must be true or false' });
    }
    if (req.autolock === 'true') throw new TsswarmError('AUTOLOCK_UNSUPPORTED');
    autolockManagers = false;
  }
  return {
    ...spec,
    dispatcherHeartbeatPeriodMs: req.dispatcherHeartbeat === ''
      ? spec.dispatcherHeartbeatPeriodMs
      : duration('--dispatcher-heartbeat', req.dispatcherHeartbeat, 100, 24 * HOUR_MS, 'between 100ms and 24h'),
    nodeCertExpiryMs: req.certExpiry === ''
      ? spec.nodeCertExpiryMs
      : duration('--cert-expiry', req.certExpiry, HOUR_MS, 20 * 365 * 24 * HOUR_MS, 'at least 1h (and below the root CA\'s 20 years)'),
    autolockManagers,
  };
}
