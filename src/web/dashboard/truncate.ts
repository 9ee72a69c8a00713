import type { AttemptRecord, TaskDetail } from '../../core/admin/admin-types.js';
import type { TaskInfo } from '../../core/types.js';

/** In a task list: each value cut to this many characters. */
export const LIST_PREVIEW_CHARS = 200;
/** In the detail view: at most this many bytes of one value; the rest through the raw endpoint. */
export const DETAIL_PREVIEW_BYTES = 64 * 1024;

/** A value as the browser gets it: compact JSON text, cut when long, with the full size. */
export interface Preview {
  text: string;
  /** The full JSON text's size in bytes (UTF-8). */
  bytes: number;
  /** The full JSON text's length in characters (what the raw endpoint pages over). */
  chars: number;
  truncated: boolean;
}

/** The compact JSON text of a value (a string that is not JSON-encodable is shown as is). */
export function jsonText(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `text` cut to at most `maxChars` characters and `maxBytes` UTF-8 bytes. */
export function preview(text: string, maxChars: number, maxBytes = maxChars * 4): Preview {
  const bytes = Buffer.byteLength(text);
  let cut = text.length > maxChars ? text.slice(0, maxChars) : text;
  if (Buffer.byteLength(cut) > maxBytes)
    cut = Buffer.from(cut)
      .subarray(0, maxBytes)
      .toString()
      .replace(/\uFFFD$/, '');
  return { text: cut, bytes, chars: text.length, truncated: cut.length < text.length };
}

/** A task row: every field a list shows, with the result and error cut to LIST_PREVIEW_CHARS. */
export function taskSummary(info: TaskInfo, maxChars = LIST_PREVIEW_CHARS, maxBytes?: number): Record<string, unknown> {
  const { result, error, progress, ...plain } = info;
  const row: Record<string, unknown> = { ...plain };
  if (result !== undefined) row.result = preview(jsonText(result), maxChars, maxBytes);
  if (error) row.error = { type: error.type.slice(0, 200), message: preview(error.message, maxChars, maxBytes) };
  if (progress) {
    row.progress = { current: progress.current, total: progress.total };
    if (progress.meta !== undefined)
      (row.progress as Record<string, unknown>).meta = preview(jsonText(progress.meta), maxChars, maxBytes);
  }
  return row;
}

/** The detail view's JSON: every value at most DETAIL_PREVIEW_BYTES, so a 5 MB result cannot hang the page. */
export function detailView(detail: TaskDetail): Record<string, unknown> {
  const max = DETAIL_PREVIEW_BYTES;
  return {
    info: taskSummary(detail.info, max, max),
    args: preview(typeof detail.args === 'string' ? detail.args : jsonText(detail.args), max, max),
    argsBytes: detail.argsBytes,
    deadLettered: detail.deadLettered,
    trace: detail.trace,
    attempts: detail.attempts.map((a) => attemptView(a)),
  };
}

function attemptView(attempt: AttemptRecord): Record<string, unknown> {
  const { error, ...rest } = attempt;
  if (!error) return rest;
  const view: Record<string, unknown> = { type: error.type.slice(0, 200), message: preview(error.message, 2000) };
  if (error.stack !== undefined) view.stack = error.stack.slice(0, 4000);
  return { ...rest, error: view };
}

/** The full text of one field of a task, for the raw endpoint. */
export function rawText(detail: TaskDetail, field: 'args' | 'result' | 'error'): string | undefined {
  if (field === 'args') return typeof detail.args === 'string' ? detail.args : jsonText(detail.args);
  if (field === 'result') return detail.info.result === undefined ? undefined : jsonText(detail.info.result);
  return detail.info.error ? jsonText(detail.info.error) : undefined;
}
