import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import type { CallbackRequest, CallbackSender } from '../core/callbacks/callback-options.js';
import { CallbackRefusedError, ConfigError } from '../core/errors.js';
import { standardSecretKey, standardWebhookHeaders } from '../webhooks/standard-webhooks.js';
import { AddressPolicy } from './address-policy.js';

const MAX_URL_LENGTH = 2048;
/** How much of an answer's body is read (and dropped) before the socket is closed. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs signed callbacks with node:http(s) through request-filtering-agent,
 * which checks every address a host name resolves to at connect time (no
 * DNS-rebinding gap between a check and the connection). Redirects are
 * not followed: a 3xx is an answer like any non-2xx.
 */
export function httpCallbackSender(options: { allow?: readonly string[] } = {}): CallbackSender {
  const policy = new AddressPolicy(options.allow);
  const filter = { allowIPAddressList: policy.allow, keepAlive: false };
  const agents = { http: new RequestFilteringHttpAgent(filter), https: new RequestFilteringHttpsAgent(filter) };

  const checkUrl = (url: string): URL => {
    if (url.length > MAX_URL_LENGTH) throw new CallbackRefusedError(`a callback URL is at most ${MAX_URL_LENGTH} characters`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CallbackRefusedError('the callback URL is not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CallbackRefusedError(`a callback URL must be http or https, got ${parsed.protocol}`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw new CallbackRefusedError('a callback URL may not hold credentials');
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) {
      const refusal = policy.refusal(host);
      if (refusal !== undefined) throw new CallbackRefusedError(`callback URL refused: ${refusal}`);
    }
    return parsed;
  };

  return {
    checkUrl(url) {
      checkUrl(url);
    },
    checkSecret(secret) {
      if (typeof secret !== 'string') throw new ConfigError('a callback secret is a string');
      standardSecretKey(secret);
    },
    async send(request: CallbackRequest) {
      const url = checkUrl(request.url);
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = standardWebhookHeaders({ id: request.webhookId, timestamp, body: request.body, secret: request.secret });
      const secure = url.protocol === 'https:';
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]);
      const answer = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (secure ? httpsRequest : httpRequest)(url, {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          signal,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(request.body),
            'user-agent': 'errand-callbacks',
            ...signature,
          },
        });
        req.on('response', resolve);
        req.on('error', (error) => reject(refusedOr(error, signal)));
        req.end(request.body);
      });
      await drain(answer);
      return { status: answer.statusCode ?? 0 };
    },
  };
}

/** The agent's refusal as a CallbackRefusedError; a timeout named as one; other errors as they are. */
function refusedOr(error: Error, signal: AbortSignal): Error {
  if (/is not allowed/.test(error.message))
    return new CallbackRefusedError(`callback URL refused: ${error.message}`, { cause: error });
  if (signal.aborted && (signal.reason as Error)?.name === 'TimeoutError') return new Error('no answer within the time limit');
  return error;
}

/** Reads up to MAX_ANSWER_BYTES of the answer and closes it: only the status matters. */
function drain(answer: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    answer.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_ANSWER_BYTES) answer.destroy();
    });
    answer.on('end', resolve);
    answer.on('close', resolve);
    answer.on('error', () => resolve());
  });
}
