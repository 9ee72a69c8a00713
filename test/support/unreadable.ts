import Fastify from 'fastify';
import { expect } from 'vitest';
import { TaskFailedError, type AsyncResult, type Errand } from '../../src/index.js';
import { errandWeb } from '../../src/web/index.js';

/**
 * A task whose stored record cannot be read is reported, never thrown: info()
 * is FAILURE with a DecodeError naming `where` (the field or column) and the
 * id; get() rejects with it; the poll route answers it; revoke returns it.
 */
export async function expectUnreadableReported(app: Errand, r: AsyncResult<unknown>, where: string): Promise<void> {
  const info = (await r.info())!;
  expect(info).toMatchObject({ id: r.id, state: 'FAILURE', error: { type: 'DecodeError' } });
  expect(info.error!.message).toContain(where);
  expect(info.error!.message).toContain(r.id);
  const error = (await r.get({ timeout: 2000 }).catch((e: unknown) => e)) as TaskFailedError;
  expect(error).toBeInstanceOf(TaskFailedError);
  expect(error.error.type).toBe('DecodeError');
  const web = Fastify();
  try {
    await web.register(errandWeb, { app });
    const res = await web.inject({ url: `/task_status/?task_id=${r.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ state: 'FAILURE', errorType: 'DecodeError' });
  } finally {
    await web.close();
  }
  expect((await r.revoke())?.error?.type).toBe('DecodeError');
}
