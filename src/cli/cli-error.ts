import { ErrandError } from '../core/errors.js';

/** A failure the CLI reports as one line and exit code 1 (a bad flag is commander's: exit 2). */
export class CliError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CLI', message, options);
  }
}

/** One readable line for any error: its message, with the cause's when that adds something. */
export function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  const text = cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
  return text.replace(/\s*\n\s*/g, ' ');
}
