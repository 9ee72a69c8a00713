/**
 * errand/testing: test your tasks without a broker or a worker process, and
 * without waiting for real time. See docs/testing.md.
 */
export {
  TestApp,
  createTestApp,
  type TestAppOptions,
  type TestMode,
  type EnqueuedTask,
  type FinishedTask,
  type DrainOptions,
} from './test-app.js';
export {
  AssertionError,
  expectEnqueued,
  expectNotEnqueued,
  expectSucceeded,
  expectFailed,
  jsonEqual,
  type EnqueuedMatch,
  type ResultMatch,
  type FailureMatch,
} from './assertions.js';
export { ManualClock, systemClock, type Clock, type ClockTimer } from '../core/clock.js';
