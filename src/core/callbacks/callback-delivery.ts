import type { TaskInfo } from '../types.js';

/** Where a task's endpoint callback stands (app.callbackDelivery). */
export interface CallbackDelivery {
  /** The task the callback reports on. */
  taskId: string;
  /** The delivery's own task id (its webhook-id). */
  deliveryId: string;
  /**
   * pending: due, not tried yet; sending: an attempt is under way; retrying:
   * an attempt failed, the next is at nextAttemptAt; delivered: a 2xx came
   * back; gone: the endpoint answered 410 (no more attempts); failed: given up.
   */
  state: 'pending' | 'sending' | 'retrying' | 'delivered' | 'gone' | 'failed';
  /** POSTs started so far. */
  attempts: number;
  /** The HTTP status of the last answer, if an answer came. */
  lastStatus?: number;
  /** Why the last attempt failed. */
  lastError?: string;
  nextAttemptAt?: number;
  /** When the delivery ended (delivered, gone or failed). */
  finishedAt?: number;
}

/** What a delivery attempt records in its progress meta. */
export type AttemptMeta = {
  status?: number;
};

/** The delivery record read off the delivery task's TaskInfo. */
export function deliveryRecord(taskId: string, info: TaskInfo): CallbackDelivery {
  const record: CallbackDelivery = { taskId, deliveryId: info.id, state: 'pending', attempts: info.attempts };
  const meta = info.progress?.meta as AttemptMeta | undefined;
  if (typeof meta?.status === 'number') record.lastStatus = meta.status;
  if (info.error) record.lastError = info.error.message;
  switch (info.state) {
    case 'PENDING':
      record.nextAttemptAt = info.runAt;
      break;
    case 'STARTED':
    case 'PROGRESS':
      record.state = 'sending';
      break;
    case 'RETRY':
      record.state = 'retrying';
      record.nextAttemptAt = info.runAt;
      break;
    case 'SUCCESS':
      record.state = 'delivered';
      delete record.lastError;
      break;
    default:
      record.state = info.error?.type === 'CallbackGoneError' ? 'gone' : 'failed';
  }
  if (info.finishedAt !== undefined) record.finishedAt = info.finishedAt;
  return record;
}
