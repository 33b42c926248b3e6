export type { Annotations, DeepPartial, Meta, Platform, StoredObject } from './common.js';
export type * from './node.js';
export type * from './cluster.js';
export type * from './service.js';
export { taskStateBefore, taskStateValues } from './task.js';
export type { ContainerStatus, NetworkAttachment, Task, TaskState, TaskStatus } from './task.js';
export type * from './network.js';
export type { ObjectKind, ObjectOfKind } from './kinds.js';
export { objectKinds } from './kinds.js';
