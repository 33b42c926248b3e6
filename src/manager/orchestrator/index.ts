export { Orchestrator, orchestrationPass, orchestratorConfigSchema, randomTaskId, type OrchestratorOptions, type OrchestratorConfigInput } from './orchestrator.js';
export { planOrchestration, historyLimit, DEFAULT_TASK_HISTORY, type OrchestrationInput } from './plan-orchestration.js';
export { removeService, checkPlacement, rollbackServiceSpec } from './service-lifecycle.js';
export { DEFAULT_RESTART, shouldRestart } from './restart-policy.js';
export { DEFAULT_UPDATE } from './rolling-update.js';
export { newTask, LABELS } from './task-model.js';
export { ReconcileLoop, type PassResult, type ReconcileLoopOptions } from './reconcile-loop.js';
export { TaskBook } from './task-book.js';
