import type { JsonValue } from '../types.js';

/** What a runner (thread or child process) is told when it starts: which handler to load. */
export interface RunnerInit {
  module: string;
  exportName: string;
}

/** Parent → runner. */
export type ToRunner =
  | {
      type: 'run';
      job: number;
      task: { id: string; name: string; attempt: number; retries: number };
      args: unknown[];
    }
  /** The soft time limit: the handler's signal aborts (it may still finish or clean up). */
  | { type: 'abort'; job: number; message: string };

/** An error as it crosses the boundary: enough to rebuild its class name, message and stack. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** Runner → parent. */
export type FromRunner =
  | { type: 'ready' }
  /** The module could not be loaded or exports no function under that name. */
  | { type: 'broken'; error: WireError }
  | { type: 'progress'; job: number; current: number; total?: number; meta?: JsonValue }
  | { type: 'done'; job: number; value: unknown }
  | { type: 'failed'; job: number; error: WireError };

export function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const wire: WireError = { name: error.name || error.constructor?.name || 'Error', message: error.message };
    if (error.stack !== undefined) wire.stack = error.stack;
    return wire;
  }
  return { name: typeof error, message: String(error) };
}

/** An Error that reads like the one thrown in the runner (name, message, stack). */
export function fromWire(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
