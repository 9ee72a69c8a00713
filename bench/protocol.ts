import type { HandlerMode, SystemName } from './systems/types.js';

/** Parent → worker child. */
export type ToChild =
  | { type: 'prepare'; system: SystemName; concurrency: number; mode: HandlerMode }
  | { type: 'go' }
  | { type: 'stop' }
  | { type: 'ping' }
  | { type: 'exit' };

/** Worker child → parent. */
export type FromChild =
  | { type: 'ready' }
  | { type: 'prepared' }
  | { type: 'started'; goAt: number; monotonicOffsetUs: number }
  | { type: 'progress'; done: number; lastDoneAt: number }
  | { type: 'stopped'; done: number; lastDoneAt: number; flushes: number }
  | { type: 'pong'; at: number }
  | { type: 'error'; message: string };
