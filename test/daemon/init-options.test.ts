import { describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../src/errors/index.js';
import { validateInitOptions } from '../../src/daemon/init-options.js';
import { formatDuration, parseDuration } from '../../src/manager/controlapi/duration.js';
import type { InitClusterRequest } from '../../src/manager/controlapi/messages.js';

const empty: InitClusterRequest = {
  advertiseAddr: '', listenAddr: '', dataPathAddr: '', dataPathPort: 0, defaultAddrPools: [], defaultAddrPoolMaskLength: 0,
  dispatcherHeartbeat: '', certExpiry: '', forceNewCluster: false, autolock: false,
};

function refusal(req: Partial<InitClusterRequest>): { code: string; option: unknown } | undefined {
  try {
    validateInitOptions({ ...empty, advertiseAddr: '10.1.2.3', ...req });
    return undefined;
  } catch (err) {
    if (!isTsswarmError(err)) throw err;
    return { code: err.code, option: err.details.option };
  }
}

describe('Go-style durations', () => {
  it.each([
    ['5s', 5000], ['1m30s', 90_000], ['2160h0m0s', 2160 * 3_600_000], ['1.5h', 5_400_000], ['500ms', 500], ['0', 0], ['720h', 720 * 3_600_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '5', '-5s', '5 s', '1d', 's', '5s3'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    [5000, '5s'], [90_000, '1m30s'], [2160 * 3_600_000, '2160h0m0s'], [500, '500ms'], [0, '0s'], [3_600_000, '1h0m0s'], [1500, '1.5s'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('validateInitOptions', () => {
  it('fills Docker\'s defaults', () => {
    expect(validateInitOptions({ ...empty, listenAddr: '127.0.0.1' })).toEqual({
      listenAddr: '127.0.0.1:2377', advertiseAddr: '127.0.0.1:2377', dataPathAddr: '127.0.0.1', dataPathPort: 4789,
      defaultAddrPools: ['10.0.0.0/8'], maskLength: 24, dispatcherHeartbeatMs: 5000, certExpiryMs: 2160 * 3_600_000,
    });
  });

  it('takes the advertise port from the listen address unless given', () => {
    expect(validateInitOptions({ ...empty, advertiseAddr: '10.1.2.3', listenAddr: '0.0.0.0:4000' }).advertiseAddr).toBe('10.1.2.3:4000');
    expect(validateInitOptions({ ...empty, advertiseAddr: '10.1.2.3:5000', listenAddr: '0.0.0.0:4000' }).advertiseAddr).toBe('10.1.2.3:5000');
    expect(validateInitOptions({ ...empty, advertiseAddr: '[fd00::1]:5000' }).advertiseAddr).toBe('[fd00::1]:5000');
  });

  it.each<[string, Partial<InitClusterRequest>, string]>([
    ['port 1023', { dataPathPort: 1023 }, '--data-path-port'],
    ['port 49152', { dataPathPort: 49152 }, '--data-path-port'],
    ['pool /31', { defaultAddrPools: ['10.0.0.0/31'] }, '--default-addr-pool'],
    ['pool octet 300', { defaultAddrPools: ['10.0.300.0/24'] }, '--default-addr-pool'],
    ['mask 30', { defaultAddrPoolMaskLength: 30 }, '--default-addr-pool-mask-length'],
    ['heartbeat 25h', { dispatcherHeartbeat: '25h' }, '--dispatcher-heartbeat'],
    ['expiry 30m', { certExpiry: '30m' }, '--cert-expiry'],
    ['advertise hostname', { advertiseAddr: 'node1' }, '--advertise-addr'],
    ['listen port 0', { listenAddr: '127.0.0.1:0' }, '--listen-addr'],
    ['autolock', { autolock: true }, '--autolock'],
  ])('refuses %s', (_name, req, option) => {
    expect(refusal(req)).toEqual({ code: 'SWARM_INVALID_OPTION', option });
  });

  it('accepts the edges of each range', () => {
    expect(refusal({ dataPathPort: 1024 })).toBeUndefined();
    expect(refusal({ dataPathPort: 49151 })).toBeUndefined();
    expect(refusal({ certExpiry: '1h' })).toBeUndefined();
    expect(refusal({ dispatcherHeartbeat: '100ms' })).toBeUndefined();
    expect(refusal({ defaultAddrPools: ['10.0.0.0/24'], defaultAddrPoolMaskLength: 24 })).toBeUndefined();
  });
});
