import { createHash } from 'node:crypto';
import type { BackoffOptions } from '../retry-policy.js';

/** The built-in task that delivers endpoint callbacks. */
export const CALLBACK_TASK = 'errand.callback';

/** createApp({ callbacks }): how endpoint callbacks (ApplyOptions.callback) are signed and delivered. */
export interface CallbackOptions {
  /** The Standard Webhooks secret ('whsec_<base64>') callbacks are signed with unless a call gives its own. */
  secret?: string;
  /** The queue deliveries go to (default 'default'); some worker must consume it. */
  queue?: string;
  /**
   * Addresses a callback may reach although private, loopback or link-local
   * (refused by default against SSRF): IPs or CIDRs, e.g. ['127.0.0.1', '::1', '10.1.0.0/16'].
   */
  allow?: readonly string[];
  /** Time limit of one POST in ms, connect to last byte (default 10,000). */
  timeoutMs?: number;
  /** Attempts before giving up (default 10). */
  maxAttempts?: number;
  /** Wait between attempts (default base 1 s doubling to a 1 h cap, full jitter). */
  backoff?: BackoffOptions;
}

/** What a delivery sends; the sender signs it and POSTs it. */
export interface CallbackRequest {
  url: string;
  /** The JSON body, as sent and signed. */
  body: string;
  /** webhook-id: the same on every attempt, so the receiver can dedupe. */
  webhookId: string;
  secret: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Sends callbacks over HTTP (createApp passes errand's; the core knows no
 * HTTP). `send` resolves with the answer's status, or throws
 * CallbackRefusedError for an address it will not reach and any other
 * error for a failed attempt (a timeout, a refused connection).
 */
export interface CallbackSender {
  send(request: CallbackRequest): Promise<{ status: number }>;
  /** Throws CallbackRefusedError for a URL no delivery could use (checked at enqueue). */
  checkUrl(url: string): void;
  /** Throws ConfigError for a secret that cannot sign. */
  checkSecret(secret: string): void;
}

/** The task argument a delivery carries: the URL and, when the call gave one, its own secret. */
export interface CallbackTargetArg {
  url: string;
  secret?: string;
}

/**
 * The id of a task's callback delivery: derived from the task id (a v8
 * UUID over a hash of it), so the delivery record is found from the task
 * id alone and is as unguessable as the task id.
 */
export function callbackDeliveryId(taskId: string): string {
  const hex = createHash('sha256').update(`errand.callback:${taskId}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
