import type { Backend, FollowUp } from '../backend.js';
import { CallbackDeliveryError, ConfigError } from '../errors.js';
import { encodeJson } from '../json.js';
import type { TaskHandler, TaskOptions } from '../task.js';
import type { AttemptMeta } from './callback-delivery.js';
import {
  CALLBACK_TASK,
  callbackDeliveryId,
  type CallbackOptions,
  type CallbackSender,
  type CallbackTargetArg,
} from './callback-options.js';
import { callbackHandler } from './callback-task.js';

/** How the app registers the delivery task (its own `task()`). */
export type DefineTask = (
  name: string,
  handler: TaskHandler<[string, CallbackTargetArg], unknown, AttemptMeta>,
  options: TaskOptions,
) => void;

/**
 * An app's endpoint callbacks: the built-in delivery task, registered once
 * (retried on CallbackDeliveryError with backoff), and the follow-up each
 * `applyAsync(…, { callback })` stores with its task.
 */
export class EndpointCallbacks {
  private constructor(
    private readonly sender: CallbackSender,
    private readonly queue: string,
    private readonly secret: string | undefined,
  ) {}

  static setUp(sender: CallbackSender, options: CallbackOptions, backend: Backend, define: DefineTask): EndpointCallbacks {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const maxAttempts = options.maxAttempts ?? 10;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      throw new ConfigError(`callbacks.timeoutMs must be > 0, got ${timeoutMs}`);
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigError(`callbacks.maxAttempts must be a whole number >= 1, got ${maxAttempts}`);
    }
    if (options.secret !== undefined) sender.checkSecret(options.secret);
    const queue = options.queue ?? 'default';
    define(CALLBACK_TASK, callbackHandler(backend, { sender, secret: options.secret, timeoutMs, maxAttempts }), {
      queue,
      // a safety net: the sender's own time limit ends an attempt first
      timeout: timeoutMs + 1000,
      retry: {
        on: [CallbackDeliveryError],
        max: maxAttempts - 1,
        backoff: { base: 1000, cap: 3_600_000, jitter: 'full', ...options.backoff },
      },
    });
    return new EndpointCallbacks(sender, queue, options.secret);
  }

  /** The delivery task of task `taskId`'s callback, to store with it (NewTask.followUp); throws for a bad callback. */
  followUp(taskId: string, callback: unknown, payloadLimitBytes: number): FollowUp {
    const target = this.check(callback);
    const payload = encodeJson([taskId, target], 'callback', payloadLimitBytes);
    return { id: callbackDeliveryId(taskId), name: CALLBACK_TASK, queue: this.queue, payload };
  }

  private check(callback: unknown): CallbackTargetArg {
    const { url, secret } = (callback ?? {}) as Partial<CallbackTargetArg>;
    if (typeof url !== 'string') throw new ConfigError('callback.url must be a string');
    this.sender.checkUrl(url);
    if (secret !== undefined) {
      if (typeof secret !== 'string') throw new ConfigError('callback.secret must be a string');
      this.sender.checkSecret(secret);
      return { url, secret };
    }
    if (this.secret === undefined) {
      throw new ConfigError('callback: give callback.secret or createApp({ callbacks: { secret } }) to sign it with');
    }
    return { url };
  }
}
