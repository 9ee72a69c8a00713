import { z } from 'zod';
import { DEFAULT_BROKER } from '../src/index.js';

/** Everything the demo reads from the environment, parsed once. */
export interface DemoConfig {
  host: string;
  port: number;
  broker: string;
  /** How long the simulated provider takes to answer. */
  demoApiDelayMs: number;
  /** Chance (0..1) that the simulated provider fails a request. */
  demoApiFailureRate: number;
  /** Where the worker reaches the simulated provider. */
  demoApiUrl: string;
  /** Verifies the deliveries of the webhook routes (Standard Webhooks, "whsec_<base64>"). */
  webhookSecret: string;
  /** True when WEBHOOK_SECRET was not set: the published dev secret is in use. */
  webhookSecretIsDefault: boolean;
  /** The chat's channel layer: 'memory' (one web process) or a redis:// URL (several); default: Redis when the broker is. */
  channelLayer?: string;
  /** How often the live chart (/two/) gets a point. */
  chartIntervalMs?: number;
  /** How long the /progress/ task spends on each of its items. */
  progressItemMs?: number;
  /** The period of the beat schedule /beat/ shows. */
  beatEveryMs?: number;
  /** Where /callback_test/'s callbacks go unless the request names a URL: this web process's /callback_receiver/. */
  callbackReceiverUrl: string;
  /** The dashboard's token (DASHBOARD_TOKEN); without one, /errand/dashboard/ answers loopback clients only. */
  dashboardToken?: string;
}

export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError';
}

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8010),
  ERRAND_BROKER: z.string().min(1).default(DEFAULT_BROKER),
  DEMO_API_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  DEMO_API_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.5),
  DEMO_API_URL: z.url().optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, 'must be "whsec_" and at least 16 bytes of base64')
    .optional(),
  CHANNEL_LAYER: z.union([z.literal('memory'), z.string().regex(/^rediss?:\/\//)]).optional(),
  CHART_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(2000),
  PROGRESS_ITEM_MS: z.coerce.number().int().min(0).max(10_000).default(25),
  BEAT_EVERY_MS: z.coerce.number().int().min(100).max(86_400_000).default(10_000),
  DASHBOARD_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** Published in the docs, so anyone can sign for it: for local runs only (web.ts warns when it is used). */
export const DEV_WEBHOOK_SECRET = 'whsec_ZXJyYW5kLWRlbW8td2ViaG9vay1zZWNyZXQtZGV2';

/** Reads the demo's settings; throws DemoConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  // Empty strings count as unset, so `PORT= npm start` keeps the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new DemoConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    broker: e.ERRAND_BROKER,
    demoApiDelayMs: e.DEMO_API_DELAY_MS,
    demoApiFailureRate: e.DEMO_API_FAILURE_RATE,
    demoApiUrl: e.DEMO_API_URL ?? `http://${reachableHost(e.HOST)}:${e.PORT}/fake-api/subscribe`,
    webhookSecret: e.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    webhookSecretIsDefault: e.WEBHOOK_SECRET === undefined,
    channelLayer: e.CHANNEL_LAYER ?? (/^rediss?:\/\//.test(e.ERRAND_BROKER) ? e.ERRAND_BROKER : 'memory'),
    chartIntervalMs: e.CHART_INTERVAL_MS,
    progressItemMs: e.PROGRESS_ITEM_MS,
    beatEveryMs: e.BEAT_EVERY_MS,
    callbackReceiverUrl: `http://${reachableHost(e.HOST)}:${e.PORT}/callback_receiver/`,
    ...(e.DASHBOARD_TOKEN === undefined ? {} : { dashboardToken: e.DASHBOARD_TOKEN }),
  };
}

/** A wildcard bind address is not something a client can connect to. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
