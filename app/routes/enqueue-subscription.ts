import type { FastifyReply } from 'fastify';
import type { DemoApp } from '../tasks.js';
import { validateSubscription } from '../validation.js';

/** Shared by both flavours: validate, enqueue, answer `{ task_id }` at once (the work happens in the worker). */
export async function enqueueSubscription(demo: DemoApp, body: unknown, reply: FastifyReply): Promise<FastifyReply> {
  const checked = validateSubscription(body);
  if (!checked.ok) return reply.code(400).send({ error: 'validation', fields: checked.fields });
  const result = await demo.subscribe.delay(checked.value.email, checked.value.username);
  return reply.send({ task_id: result.id });
}
