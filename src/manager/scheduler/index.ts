export { parseConstraint, parseConstraints, nodeMatchesConstraint, nodeMatchesConstraints, type Constraint } from './constraint.js';
export { parsePreference, validatePlacement, type SpreadPreference } from './placement.js';
export { planSchedule, isSchedulable, type ScheduleInput, type SchedulePlan } from './plan-schedule.js';
export { Scheduler, schedulePass, schedulerConfigSchema, type SchedulerOptions, type SchedulerConfigInput } from './scheduler.js';
