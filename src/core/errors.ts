/**
 * Every error errand throws is an ErrandError with a stable string `code`.
 *
 * ErrandError (code)
 * ├─ ConfigError            ERR_CONFIG            bad option or broker URL
 * ├─ SerializationError     ERR_SERIALIZATION     arguments or result not JSON-serialisable
 * ├─ PayloadTooLargeError   ERR_PAYLOAD_TOO_LARGE encoded arguments or result over the limit
 * ├─ DuplicateTaskError     ERR_DUPLICATE_TASK    two tasks registered under one name
 * ├─ UnknownTaskError       ERR_UNKNOWN_TASK      a message names a task this worker does not know
 * ├─ DecodeError            ERR_DECODE            a stored message cannot be decoded
 * ├─ TaskNotFoundError      ERR_TASK_NOT_FOUND    no task with this id (never existed or expired)
 * ├─ TaskFailedError        ERR_TASK_FAILED       the awaited task ended in FAILURE
 * ├─ TaskRevokedError       ERR_TASK_REVOKED      the task was revoked
 * ├─ TimeoutError           ERR_TIMEOUT           a wait or a task's time limit ran out
 * ├─ WorkerLostError        ERR_WORKER_LOST       a task was redelivered too often after worker crashes
 * ├─ MaxRetriesExceededError ERR_MAX_RETRIES     ctx.retry() was called with no retries left
 * ├─ ShutdownError          ERR_SHUTDOWN          the worker stopped before the task finished
 * ├─ IdempotencyConflictError ERR_IDEMPOTENCY_CONFLICT an idempotency key was reused with other arguments (onConflict: 'error')
 * ├─ BrokerError            ERR_BROKER            the broker failed or answered something unexpected
 * ├─ ClosedError            ERR_CLOSED            the app or broker was used after close()
 * ├─ CallbackDeliveryError ERR_CALLBACK_DELIVERY an endpoint callback's POST failed or got no 2xx (retried)
 * ├─ CallbackGoneError     ERR_CALLBACK_GONE     the callback endpoint answered 410 Gone (not retried)
 * ├─ CallbackRefusedError  ERR_CALLBACK_REFUSED  a callback URL is not allowed: not http(s), or a private address off the allow-list
 * ├─ InvalidArgumentError ERR_INVALID_ARGUMENT an admin query or action got a bad value (names the field)
 * ├─ AuthorizationError     ERR_UNAUTHORIZED      (errand/web) an authorize hook refused a request with 401/403/404
 * └─ WebhookVerificationError ERR_WEBHOOK_VERIFICATION (errand/webhooks) a webhook's signature or timestamp did not check out
 */
export class ErrandError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class ConfigError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
  }
}

export class SerializationError extends ErrandError {
  /** Where in the value the problem is, e.g. `args[0].when`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_SERIALIZATION', `${path}: ${message}`);
    this.path = path;
  }
}

export class PayloadTooLargeError extends ErrandError {
  readonly size: number;
  readonly limit: number;
  constructor(what: string, size: number, limit: number) {
    super('ERR_PAYLOAD_TOO_LARGE', `${what} is ${size} bytes, over the limit of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

export class DuplicateTaskError extends ErrandError {
  constructor(name: string) {
    super('ERR_DUPLICATE_TASK', `a task named "${name}" is already registered`);
  }
}

export class UnknownTaskError extends ErrandError {
  readonly taskName: string;
  constructor(name: string) {
    super('ERR_UNKNOWN_TASK', `no task named "${name}" is registered in this worker`);
    this.taskName = name;
  }
}

export class DecodeError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DECODE', message, options);
  }
}

export class TaskNotFoundError extends ErrandError {
  readonly taskId: string;
  constructor(id: string) {
    super('ERR_TASK_NOT_FOUND', `no task with id "${id}" (unknown or expired)`);
    this.taskId = id;
  }
}

export class TaskFailedError extends ErrandError {
  readonly taskId: string;
  /** The failed task's error, as stored: its class name and message. */
  readonly error: { type: string; message: string };
  constructor(id: string, error: { type: string; message: string }) {
    super('ERR_TASK_FAILED', `task ${id} failed: ${error.type}: ${error.message}`);
    this.taskId = id;
    this.error = error;
  }
}

export class TaskRevokedError extends ErrandError {
  constructor(id: string) {
    super('ERR_TASK_REVOKED', `task ${id} was revoked`);
  }
}

export class TimeoutError extends ErrandError {
  constructor(message: string) {
    super('ERR_TIMEOUT', message);
  }
}

export class WorkerLostError extends ErrandError {
  constructor(message: string) {
    super('ERR_WORKER_LOST', message);
  }
}

export class MaxRetriesExceededError extends ErrandError {
  constructor(message: string) {
    super('ERR_MAX_RETRIES', message);
  }
}

export class ShutdownError extends ErrandError {
  constructor(message = 'the worker is shutting down') {
    super('ERR_SHUTDOWN', message);
  }
}

export class IdempotencyConflictError extends ErrandError {
  readonly idempotencyKey: string;
  /** The id of the task already known under the key (what a plain duplicate would have returned). */
  readonly taskId: string;
  /** The item's position, for a bulk enqueue. */
  readonly index?: number;
  constructor(key: string, taskId: string, index?: number) {
    super('ERR_IDEMPOTENCY_CONFLICT', conflictMessage(key, taskId, index));
    this.idempotencyKey = key;
    this.taskId = taskId;
    if (index !== undefined) this.index = index;
  }
}

function conflictMessage(key: string, taskId: string, index: number | undefined): string {
  const message = `idempotency key "${key}" belongs to task ${taskId}, enqueued with another name or other arguments; nothing new was enqueued for it`;
  return index === undefined ? message : `items[${index}]: ${message} (the batch's other items were enqueued)`;
}

export class BrokerError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BROKER', message, options);
  }
}

export class ClosedError extends ErrandError {
  constructor(what = 'app') {
    super('ERR_CLOSED', `the ${what} is closed`);
  }
}

export class CallbackDeliveryError extends ErrandError {
  /** The HTTP status of the answer, when there was one. */
  readonly status?: number;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('ERR_CALLBACK_DELIVERY', message, options);
    if (status !== undefined) this.status = status;
  }
}

export class CallbackGoneError extends ErrandError {
  constructor(message: string) {
    super('ERR_CALLBACK_GONE', message);
  }
}

export class CallbackRefusedError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CALLBACK_REFUSED', message, options);
  }
}

export class InvalidArgumentError extends ErrandError {
  /** The argument or field that was refused, e.g. `limit` or `cursor`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('ERR_INVALID_ARGUMENT', `${field}: ${message}`);
    this.field = field;
  }
}
