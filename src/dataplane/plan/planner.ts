import type { KernelOp, KernelState, NsName } from '../kernel/types.js';
import type { DataplaneConfig, DesiredState } from '../model.js';
import { compileTarget, type Compiled } from './compile-target.js';
import { diffTarget } from './diff.js';
import type { Problem, TargetState } from './target.js';

export interface Plan {
  readonly ops: KernelOp[];
  /** Desired items that cannot be programmed as given (bad IDs, unknown networks, ...). */
  readonly problems: Problem[];
  readonly target: TargetState;
}

/**
 * The pure planner: desired state + observed kernel -> ordered kernel ops. Calling it again
 * with the kernel state its ops produced returns no ops (idempotence). `dirty` limits the
 * comparison to namespaces that may differ from their target (the reconciler knows the rest
 * match it); by default every namespace is compared. `compiled` lets the caller reuse a
 * compilation (see recompileRemotes).
 */
export function plan(
  desired: DesiredState,
  cfg: DataplaneConfig,
  observed: KernelState,
  dirty: (ns: NsName) => boolean = () => true,
  compiled: Compiled = compileTarget(desired, cfg, observed),
): Plan {
  const { target, problems } = compiled;
  return { ops: diffTarget(target, observed, cfg, dirty), problems, target };
}
