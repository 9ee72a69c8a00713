export { createApp, openBroker, DEFAULT_BROKER, type CreateAppOptions } from './create-app.js';
export { Errand, DEFAULT_PAYLOAD_LIMIT, type ErrandOptions } from './core/errand.js';
export { AsyncResult, type GetOptions } from './core/async-result.js';
export { Worker, type WorkerOptions, type WorkerState } from './core/worker.js';
export type { Task, TaskHandler, TaskOptions, TaskTypes, ApplyOptions, CallbackTarget } from './core/task.js';
export type {
  BulkItem,
  SendItem,
  IdempotencyOptions,
  ConcurrencyOption,
  DebounceOption,
  FairnessOption,
  RateLimitOption,
  ThrottleOption,
} from './core/task.js';
export { systemClock, type Clock, type ClockTimer } from './core/clock.js';
export { ageStep, type AgingOption } from './core/aging.js';
export type { TaskContext, RetryRequestOptions } from './core/context.js';
export type { RetryOptions, BackoffOptions, ErrorClass } from './core/retry-policy.js';
export type { WatchOptions } from './core/watch.js';
export type { WatchTagOptions } from './core/watch-tag.js';
export type { Instrumentation, AttemptEnd, AttemptResult, EnqueueScope } from './core/instrumentation.js';
export { CALLBACK_TASK, callbackDeliveryId, type CallbackOptions } from './core/callbacks/callback-options.js';
export type { CallbackDelivery } from './core/callbacks/callback-delivery.js';
export { MAX_TAGS, MAX_TAG_LENGTH } from './core/tags.js';
export type { Logger } from './core/logger.js';
export type { TaskInfo, TaskProgress, TaskErrorInfo, DeadLetter, JsonValue } from './core/types.js';
export type {
  Backend,
  BackendCapabilities,
  BackendOptions,
  ClaimedTask,
  ClaimRequest,
  ConcurrencyLimit,
  EnqueueContext,
  EnqueueOutcome,
  FollowUp,
  NewTask,
  Debounce,
  Aging,
  RateLimit,
  TagFeedEntry,
  TagFeedPage,
  Unsubscribe,
} from './core/backend.js';
export { Admin } from './core/admin/admin.js';
export type {
  ActionEntry,
  ActionOptions,
  AttemptRecord,
  DepthPoint,
  History,
  Overview,
  ScheduleInfo,
  TaskDetail,
  TaskSelection,
  ThroughputPoint,
  WorkerInfo,
} from './core/admin/admin-types.js';
export type {
  BackendAdmin,
  BrokerOverview,
  CountBucket,
  QueueSummary,
  TaskPage,
  TaskQuery,
  TaskRecord,
} from './core/admin/admin-backend.js';
export { VERSION } from './core/version.js';
export { MIN_PRIORITY, MAX_PRIORITY } from './core/priority.js';
export type { Signature, MemberOptions } from './core/workflows/signature.js';
export { WorkflowHandle } from './core/workflows/workflow-handle.js';
export type { WorkflowInfo } from './core/workflows/workflow-state.js';
export type { WorkflowKind } from './core/workflows/workflow-record.js';
export { TASK_STATES, TERMINAL_STATES, isTerminal, type TaskState } from './core/states.js';
export * from './core/errors.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory/memory-backend.js';
export { SqliteBackend, type SqliteBackendOptions } from './backends/sqlite/index.js';
export { RedisBackend, type RedisBackendOptions } from './backends/redis/index.js';
export { PostgresBackend, type PostgresBackendOptions } from './backends/postgres/index.js';
export type { BeatHandle } from './core/beat/beat-loop.js';
export type {
  ScheduleSpec,
  ScheduleOptions,
  CronSpec,
  EverySpec,
  CatchUp,
  CronPlanner,
  TickPlan,
} from './core/beat/schedule-spec.js';
