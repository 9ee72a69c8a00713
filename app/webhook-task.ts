export const NOTIFICATION_TASK = 'webhooks.process_notification';

/** The provider refused the call; retried, since the sender was told 202 already. */
export class NotificationError extends Error {
  override readonly name = 'NotificationError';
}

/** What the demo's webhook sender posts: a new subscriber to pass on to the newsletter provider. */
export interface Notification {
  type: string;
  data: { email: string; username: string };
}

export interface NotificationResult {
  processed: string;
}

/** The slow part of handling a notification: the (fake, slow, flaky) provider call. */
export async function processNotification(
  demoApiUrl: string,
  email: string,
  username: string,
  signal?: AbortSignal,
): Promise<NotificationResult> {
  const response = await fetch(demoApiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, username }),
    signal,
  });
  const body = (await response.json().catch(() => ({}))) as { error?: unknown };
  if (!response.ok)
    throw new NotificationError(typeof body.error === 'string' ? body.error : `provider answered HTTP ${response.status}`);
  return { processed: email };
}

/** The task /webhook_test_async/ enqueues; a provider failure is retried with backoff (the event was already acknowledged). */
export function defineNotificationTask(
  app: Errand,
  demoApiUrl: string,
): Task<[email: string, username: string], NotificationResult> {
  return app.task(
    NOTIFICATION_TASK,
    (ctx, email: string, username: string) => processNotification(demoApiUrl, email, username, ctx.signal),
    {
      timeout: 60_000,
      retry: { on: [NotificationError], max: 3 },
    },
  );
}
import type { Errand, Task } from '../src/index.js';
