import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

/**
 * A stand-in for a newsletter provider (MailChimp, ConvertKit...): it is
 * slow and unreliable on purpose, and it runs on this machine, so the demo
 * never talks to the internet.
 */
export interface FakeApiOptions {
  delayMs: number;
  /** Chance (0..1) of a failure for an ordinary email. */
  failureRate: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

const requestSchema = z.object({ email: z.string().max(254), username: z.string().max(100) });

/**
 * Deterministic escape hatch for demos and tests: an email containing
 * "fail" always fails; any other email fails with probability `failureRate`.
 */
export function providerFails(email: string, failureRate: number, random: () => number = Math.random): boolean {
  if (email.toLowerCase().includes('fail')) return true;
  return random() < failureRate;
}

export const fakeApi: FastifyPluginAsync<FakeApiOptions> = async (fastify: FastifyInstance, options) => {
  fastify.post('/fake-api/subscribe', async (request, reply) => {
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'bad_request' });
    await sleep(options.delayMs);
    const { email, username } = parsed.data;
    if (providerFails(email, options.failureRate, options.random)) {
      // Echoes the username like real providers echo input: the page must show it as text.
      return reply.code(502).send({ error: `random processing error while subscribing ${username}` });
    }
    return reply.send({ subscribed: email });
  });
};
