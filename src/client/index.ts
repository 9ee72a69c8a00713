// errand/client: follow a task from the browser. No framework, no Node imports.
export { watchTask } from './watch-task.js';
export { watchFeed, type FeedEntry, type FeedWatch, type WatchFeedOptions } from './watch-feed.js';
export { TaskWatchError, type TaskWatchErrorCode } from './errors.js';
export {
  isTerminalState,
  TERMINAL_STATES,
  type ConnectionChange,
  type ConnectionState,
  type ProgressMetaOf,
  type ResultOf,
  type StatusMessage,
  type StatusOf,
  type TaskState,
  type TaskWatch,
  type TransportName,
  type TypedTask,
  type WatchTaskOptions,
} from './types.js';
