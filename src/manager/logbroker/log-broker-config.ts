import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';

/** The log broker's settings. */
export const logBrokerConfigSchema = z.object({
  /**
   * Lines a subscription may hold for a subscriber that reads slower than the nodes publish
   * before the leader stops taking more from the nodes (backpressure, nothing dropped). 10 000
   * lines of typical length are a few MiB: a burst is absorbed, a stuck reader costs little.
   */
  maxBufferedLines: z.number().int().min(1).default(10_000),
});

export type LogBrokerConfig = z.output<typeof logBrokerConfigSchema>;
export type LogBrokerConfigInput = z.input<typeof logBrokerConfigSchema>;

export function parseLogBrokerConfig(input?: LogBrokerConfigInput): LogBrokerConfig {
  return parseConfig('logbroker', logBrokerConfigSchema, input);
}
