// errand/react: React hooks over errand/client. No server code: type a task with `import type`.
export { useTaskStatus, type UseTaskStatusOptions } from './use-task-status.js';
export { useEnqueue, type Enqueue, type UseEnqueueOptions } from './use-enqueue.js';
export { followTask, type FollowTaskOptions } from './follow-task.js';
export { EnqueueError, postForTask, type CsrfOptions, type EnqueueBody, type EnqueueRequestOptions } from './enqueue.js';
export type { TaskConnection, TaskStatus } from './task-status.js';
export type { ResultOf, ProgressMetaOf, StatusOf, TransportName, TypedTask } from '../client/index.js';
