import type { Backend } from '../backend.js';
import type { TaskContext } from '../context.js';
import { CallbackDeliveryError, CallbackGoneError, CallbackRefusedError, TaskNotFoundError } from '../errors.js';
import type { TaskInfo } from '../types.js';
import { callbackDeliveryId, type CallbackSender, type CallbackTargetArg } from './callback-options.js';
import type { AttemptMeta } from './callback-delivery.js';

/** The settings one delivery attempt needs. */
export interface CallbackSettings {
  sender: CallbackSender;
  secret?: string;
  timeoutMs: number;
  maxAttempts: number;
}

/** The JSON a callback POSTs: the task's id, its terminal state and its result or error. */
export function callbackBody(info: TaskInfo): Record<string, unknown> {
  const body: Record<string, unknown> = { task_id: info.id, state: info.state };
  if (info.state === 'SUCCESS') body.result = info.result ?? null;
  else if (info.error) body.error = { type: info.error.type, message: info.error.message };
  return body;
}

/**
 * The handler of the built-in callback task: reads the finished task, POSTs
 * its outcome, signed, and records the answer's status in progress meta (the
 * delivery record). A 2xx ends it; 410 ends it as gone; anything else throws
 * CallbackDeliveryError, which the task's retry policy retries with backoff.
 */
export function callbackHandler(backend: Backend, settings: CallbackSettings) {
  return async (ctx: TaskContext<AttemptMeta>, taskId: string, target: CallbackTargetArg) => {
    const info = await backend.getInfo(taskId);
    if (!info) throw new TaskNotFoundError(taskId);
    const secret = target.secret ?? settings.secret;
    if (secret === undefined) throw new CallbackRefusedError('no secret to sign the callback with');
    const where = describe(target.url);
    let status: number;
    try {
      ({ status } = await settings.sender.send({
        url: target.url,
        body: JSON.stringify(callbackBody(info)),
        webhookId: callbackDeliveryId(taskId),
        secret,
        timeoutMs: settings.timeoutMs,
        signal: ctx.signal,
      }));
    } catch (error) {
      if (error instanceof CallbackRefusedError) throw error;
      await ctx.progress(ctx.attempt, settings.maxAttempts, {});
      throw new CallbackDeliveryError(`POST ${where}: ${(error as Error)?.message ?? String(error)}`, undefined, {
        cause: error,
      });
    }
    await ctx.progress(ctx.attempt, settings.maxAttempts, { status });
    if (status >= 200 && status < 300) return { status, attempts: ctx.attempt };
    if (status === 410) throw new CallbackGoneError(`POST ${where} answered 410 Gone: no more attempts`);
    throw new CallbackDeliveryError(`POST ${where} answered ${status}`, status);
  };
}

/** The URL without its query, for messages and logs (a query may hold a token). */
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the callback URL';
  }
}
