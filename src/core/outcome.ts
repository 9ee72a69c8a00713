import type { TaskErrorInfo } from './types.js';

/** How one attempt ended, as a value; the worker records it. */
export type Outcome =
  | { kind: 'success'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'retry'; countdown?: number; error: unknown }
  | { kind: 'revoked' }
  | { kind: 'lost' }
  | { kind: 'shutdown' };

/** Why the worker aborted a running attempt; becomes the signal's reason. */
export type AbortCause = 'timeout' | 'revoked' | 'lost' | 'shutdown';

/** The stored form of an error: class name and message, no stack. */
export function describeError(error: unknown): TaskErrorInfo {
  if (error instanceof Error) {
    const type = error.name && error.name !== 'Error' ? error.name : error.constructor?.name || 'Error';
    return { type, message: error.message };
  }
  return { type: typeof error, message: String(error) };
}
