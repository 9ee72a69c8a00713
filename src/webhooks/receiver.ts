import { createHash } from 'node:crypto';
import type { Errand } from '../core/errand.js';
import { BrokerError, ClosedError, ConfigError, IdempotencyConflictError, PayloadTooLargeError } from '../core/errors.js';
import type { ApplyOptions } from '../core/task.js';
import type { WebRequest } from '../web/core/web-request.js';
import type { WebReply } from '../web/core/web-response.js';
import { WebhookVerificationError } from './errors.js';
import { checkTolerance, secretList } from './hmac.js';
import { SCHEMES, type VerifiedDelivery, type WebhookScheme } from './schemes.js';
import { accepted, webhookError } from './webhook-replies.js';

/** What the receiver needs of a task (any errand Task fits). */
export interface WebhookTask<A extends unknown[]> {
  readonly name: string;
  readonly queue: string;
  applyAsync(args: A, options?: ApplyOptions): Promise<{ readonly id: string }>;
}

export interface WebhookReceiverOptions<A extends unknown[], E> {
  /** The errand app: its broker (queue depth), clock (timestamps) and logger. */
  app: Pick<Errand, 'backend' | 'clock' | 'logger'>;
  /** The task that does the work, in a worker. */
  task: WebhookTask<A>;
  scheme: WebhookScheme;
  /** Every secret currently valid: list the old and the new one while rotating. */
  secrets: string | readonly string[];
  /** The task's arguments from the parsed event (throw to refuse it with 400 invalid_event). */
  toArgs: (event: E, delivery: VerifiedDelivery) => A;
  /**
   * The provider's id of the event, the same on every retry: deliveries with
   * one id make one task. Default: the webhook-id header (standard), the
   * body's "id" (stripe).
   */
  eventId?: (headers: Readonly<Record<string, string | undefined>>, event: E) => string | undefined;
  /** How far the signed timestamp may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Largest body accepted (default 1 MiB): 413 above it. */
  maxBodyBytes?: number;
  /** Answer 429 (nothing enqueued) while this many tasks or more wait in the queue. */
  maxQueueDepth?: number;
  /** Retry-After of a 429, in seconds (default 30). */
  retryAfterSeconds?: number;
  /** The queue to enqueue on and to measure (default: the task's). */
  queue?: string;
}

/** A framework-neutral webhook endpoint: a WebRequest in, a JSON answer out; never rejects. */
export interface WebhookReceiver {
  (request: WebRequest): Promise<WebReply>;
  /** Adapters stop reading a body past this many bytes. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_EVENT_ID_LENGTH = 200;

export function webhookReceiver<A extends unknown[], E = unknown>(options: WebhookReceiverOptions<A, E>): WebhookReceiver {
  const { app, task, toArgs } = options;
  if (!app?.backend) throw new ConfigError('webhookReceiver needs { app } (an errand app from createApp)');
  if (typeof task?.applyAsync !== 'function') throw new ConfigError('webhookReceiver needs { task } (an errand task)');
  if (typeof toArgs !== 'function') throw new ConfigError('webhookReceiver needs toArgs(event) returning the task arguments');
  const scheme = SCHEMES[options.scheme];
  if (!scheme) throw new ConfigError(`webhookReceiver: scheme must be 'standard' or 'stripe', got ${String(options.scheme)}`);
  const secrets = secretList(options.secrets, 'webhookReceiver');
  for (const secret of secrets) scheme.checkSecret(secret);
  const tolerance = checkTolerance(options.toleranceSeconds, 'webhookReceiver');
  const maxBodyBytes = positive(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
  const maxQueueDepth = options.maxQueueDepth === undefined ? undefined : positive(options.maxQueueDepth, 'maxQueueDepth');
  const retryAfter = String(positive(options.retryAfterSeconds ?? 30, 'retryAfterSeconds'));
  const queue = options.queue ?? task.queue;
  const eventId = options.eventId ?? ((headers, event) => defaultEventId(options.scheme, headers, event));
  const log = (error: unknown, message: string): void => app.logger.error({ err: error, task: task.name }, message);

  async function receive(request: WebRequest): Promise<WebReply> {
    if (request.method !== 'POST') {
      return webhookError(405, 'method_not_allowed', 'deliver webhooks with POST', { allow: 'POST' });
    }
    if (!isJson(request.headers['content-type'])) {
      return webhookError(415, 'unsupported_media_type', 'send the event as application/json');
    }
    const tooLarge = webhookError(413, 'payload_too_large', `the body is over ${maxBodyBytes} bytes`);
    if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) return tooLarge;
    let body: Uint8Array;
    try {
      body = await request.body();
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return tooLarge;
      throw error;
    }
    if (body.length > maxBodyBytes) return tooLarge;

    let delivery: VerifiedDelivery;
    try {
      delivery = scheme.verify(request.headers, body, secrets, tolerance, app.clock.now());
    } catch (error) {
      if (error instanceof WebhookVerificationError) return webhookError(401, error.reason, error.message);
      throw error;
    }

    let event: E;
    try {
      event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as E;
    } catch {
      return webhookError(400, 'invalid_json', 'the body is not valid UTF-8 JSON');
    }
    let id: string | undefined;
    try {
      id = eventId(request.headers, event);
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH) {
      return webhookError(400, 'invalid_event', `the event has no id of 1 to ${MAX_EVENT_ID_LENGTH} characters`);
    }
    let args: A;
    try {
      args = toArgs(event, delivery);
    } catch (error) {
      return webhookError(
        400,
        'invalid_event',
        error instanceof Error && error.message ? error.message : 'the event was refused',
      );
    }

    if (maxQueueDepth !== undefined && (await app.backend.countWaiting(queue)) >= maxQueueDepth) {
      return webhookError(429, 'queue_full', `${maxQueueDepth} or more tasks wait already; retry later`, {
        'retry-after': retryAfter,
      });
    }
    try {
      const result = await task.applyAsync(args, { idempotencyKey: idempotencyKey(task.name, id), queue });
      return accepted(result.id);
    } catch (error) {
      // One event id, another body (the app said onConflict: 'error'): the first delivery's task stands.
      if (error instanceof IdempotencyConflictError) return accepted(error.taskId);
      throw error;
    }
  }

  const receiver = (async (request: WebRequest) => {
    try {
      return await receive(request);
    } catch (error) {
      log(error, 'errand: a webhook delivery failed');
      // Either way the provider retries a 5xx later; nothing was stored.
      if (error instanceof BrokerError || error instanceof ClosedError) {
        return webhookError(503, 'unavailable', 'the task broker is unavailable; retry later');
      }
      return webhookError(500, 'internal', 'the webhook could not be handled');
    }
  }) as WebhookReceiver;
  Object.defineProperty(receiver, 'maxBodyBytes', { value: maxBodyBytes, enumerable: true });
  return receiver;
}

function defaultEventId(
  scheme: WebhookScheme,
  headers: Readonly<Record<string, string | undefined>>,
  event: unknown,
): string | undefined {
  if (scheme === 'standard') return headers['webhook-id'];
  const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** Namespaced by task, so two receivers cannot collide; hashed when the task name makes it too long for the broker. */
function idempotencyKey(taskName: string, eventId: string): string {
  const key = `webhook:${taskName}:${eventId}`;
  return key.length <= 256 ? key : `webhook:${createHash('sha256').update(taskName).update('\0').update(eventId).digest('hex')}`;
}

function isJson(type: string | undefined): boolean {
  if (type === undefined) return false;
  return type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function positive(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`webhookReceiver: ${what} must be a whole number > 0`);
  return value;
}
