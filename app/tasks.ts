import { createApp, type Errand, type Task, type Logger } from '../src/index.js';
import { defineProgressTask, type ProgressResult } from './progress-task.js';
import { defineNotificationTask, type NotificationResult } from './webhook-task.js';

export const SUBSCRIBE_TASK = 'newsletter.subscribe';

/** The provider answered with an error; its message is what the user sees. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
}

export interface SubscribeResult {
  subscribed: string;
}

export interface DemoApp {
  app: Errand;
  subscribe: Task<[email: string, username: string], SubscribeResult>;
  /** What /webhook_test_async/ enqueues (see webhook-task.ts). */
  notification: Task<[email: string, username: string], NotificationResult>;
  /** What /progress/ starts (see progress-task.ts). */
  progress: Task<[items: number], ProgressResult>;
}

export interface DemoAppOptions {
  broker: string;
  /** Where the simulated provider listens (see fake-api.ts). */
  demoApiUrl: string;
  /** Work per item of the /progress/ task (default 25 ms: 5 s for 200 items). */
  progressItemMs?: number;
  logger?: Logger | false;
}

/**
 * The errand app and its one task. The web process (which only enqueues)
 * and the worker process (which runs it) both build it, so both agree on
 * the task's name and argument types.
 */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const app = createApp({ broker: options.broker, logger: options.logger });
  const subscribe = app.task(SUBSCRIBE_TASK, async (ctx, email: string, username: string): Promise<SubscribeResult> => {
    await ctx.progress(1, 3, 'calling provider');
    const response = await fetch(options.demoApiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, username }),
      // A revoke or shutdown abandons the call instead of waiting it out.
      signal: ctx.signal,
    });
    await ctx.progress(2, 3, 'reading answer');
    const body = (await response.json().catch(() => ({}))) as { error?: unknown };
    if (!response.ok) {
      const message = typeof body.error === 'string' ? body.error : `provider answered HTTP ${response.status}`;
      throw new ProviderError(message);
    }
    await ctx.progress(3, 3, 'subscribed');
    return { subscribed: email };
  });
  return {
    app,
    subscribe,
    notification: defineNotificationTask(app, options.demoApiUrl),
    progress: defineProgressTask(app, options.progressItemMs ?? 25),
  };
}
