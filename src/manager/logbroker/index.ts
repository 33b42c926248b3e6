// Public API of the leader's log broker (see README.md).
export {
  LogBroker, taskError, type BrokerLogError, type BrokerLogItem, type BrokerLogLine, type LogBrokerOptions, type LogSessionPort,
  type LogSubscribeRequest,
} from './log-broker.js';
export { logBrokerConfigSchema, parseLogBrokerConfig, type LogBrokerConfig, type LogBrokerConfigInput } from './log-broker-config.js';
export { LogQueue } from './log-queue.js';
export { logLinePrefix, type LogLineOrigin } from './log-prefix.js';
export { planSubscription, subscriptionsForNode, type LogTarget, type SubscriptionPlan, type SubscriptionView } from './subscription-plan.js';
export { SubscriptionProgress } from './subscription-progress.js';
export { serviceLogTargets } from './service-targets.js';
