import type { VerificationFailure } from './errors.js';
import { jsonReply, type WebReply } from '../web/core/web-response.js';

/** The `error` word of every refusal a webhook receiver sends; `message` says more. */
export type WebhookErrorCode =
  | VerificationFailure
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_event'
  | 'queue_full'
  | 'unavailable'
  | 'internal';

export interface WebhookErrorBody {
  error: WebhookErrorCode;
  message: string;
}

export function webhookError(
  status: number,
  error: WebhookErrorCode,
  message: string,
  headers?: Record<string, string>,
): WebReply {
  const body: WebhookErrorBody = { error, message };
  return jsonReply(status, body, headers);
}

/** 202: stored, a worker will do the work; the same id for every delivery of one event. */
export function accepted(taskId: string): WebReply {
  return jsonReply(202, { task_id: taskId });
}
