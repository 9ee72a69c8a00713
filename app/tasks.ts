import { createApp, type Errand, type Task, type Logger } from '../src/index.js';
import type { DemoConfig } from './config.js';
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
  /** What the /beat/ schedule runs at every tick. */
  tick: Task<[], { ranAt: string }>;
}

/** The tag of every tick of the demo's schedule: anyone may follow it (/beat/). */
export const BEAT_TAG = 'public:beat';
export const BEAT_SCHEDULE = 'demo.clock';

export interface DemoAppOptions {
  broker: string;
  /** Signs the endpoint callbacks of /callback_test/ (Standard Webhooks; the demo's webhook secret). */
  callbackSecret?: string;
  /** The beat schedule behind /beat/ (default every 10 s). */
  beatEveryMs?: number;
  /** Where the simulated provider listens (see fake-api.ts). */
  demoApiUrl: string;
  /** Work per item of the /progress/ task (default 25 ms: 5 s for 200 items). */
  progressItemMs?: number;
  logger?: Logger | false;
}

/** The demo app's options as the web and worker processes read them from their config. */
export function demoOptionsFrom(config: DemoConfig): DemoAppOptions {
  return {
    broker: config.broker,
    demoApiUrl: config.demoApiUrl,
    progressItemMs: config.progressItemMs,
    beatEveryMs: config.beatEveryMs,
    callbackSecret: config.webhookSecret,
  };
}

/**
 * The errand app and its one task. The web process (which only enqueues)
 * and the worker process (which runs it) both build it, so both agree on
 * the task's name and argument types.
 */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const app = createApp({
    broker: options.broker,
    logger: options.logger,
    // the demo calls back to itself (/callback_receiver/): loopback is allowed here, and only loopback
    callbacks: options.callbackSecret ? { secret: options.callbackSecret, allow: ['127.0.0.1', '::1'] } : undefined,
  });
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
  const tick = app.task('demo.tick', () => ({ ranAt: new Date().toISOString() }));
  // Run by every worker's beat loop (app/worker.ts); each tick runs once however many there are.
  app.schedule(BEAT_SCHEDULE, { every: options.beatEveryMs ?? 10_000, catchUp: 'none', tags: [BEAT_TAG] }, tick);
  return {
    app,
    tick,
    subscribe,
    notification: defineNotificationTask(app, options.demoApiUrl),
    progress: defineProgressTask(app, options.progressItemMs ?? 25),
  };
}
