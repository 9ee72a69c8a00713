import Fastify from 'fastify';
import { expect } from 'vitest';
import { TaskFailedError, type AsyncResult, type Errand, type Logger } from '../../src/index.js';
import { errandWeb } from '../../src/web/index.js';
import { waitFor } from './wait.js';

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

/** A logger that keeps the messages of warn and error: tests check what the worker complained about. */
export function messageLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const keep = (_obj: object, msg?: string): void => void messages.push(msg ?? '');
  return { logger: { debug() {}, info() {}, warn: keep, error: keep }, messages };
}

export interface CorruptNeighbourCase {
  app: Errand;
  /** A task that returns its argument. */
  echo: { delay(value: string): Promise<AsyncResult<unknown>> };
  messages: string[];
  /** Damages the stored record of task `id` (before any worker claims it). */
  corrupt(id: string): Promise<void> | void;
  /** What the dead letter says. */
  expected: { type?: string; message: RegExp };
}

/**
 * One unreadable task amid ten good ones queued around it: the good ones run
 * in the same claim, at once and once each; the bad one ends as a dead letter
 * and reads as FAILURE; the worker never backs off and goes on.
 */
export async function expectCorruptRecordIsolated({
  app,
  echo,
  messages,
  corrupt,
  expected,
}: CorruptNeighbourCase): Promise<void> {
  const before = await Promise.all([0, 1, 2, 3, 4].map((i) => echo.delay(`b${i}`)));
  const bad = await echo.delay('bad');
  const after = await Promise.all([0, 1, 2, 3, 4].map((i) => echo.delay(`a${i}`)));
  await corrupt(bad.id);
  const worker = app.worker({ concurrency: 20, handleSignals: false, claimWaitMs: 200 });
  await worker.start();
  try {
    const good = [...before, ...after];
    const values = await Promise.all(good.map((r) => r.get({ timeout: 5000 })));
    expect(values).toEqual([...before.map((_, i) => `b${i}`), ...after.map((_, i) => `a${i}`)]);
    const infos = (await Promise.all(good.map((r) => r.info()))).map((info) => info!);
    // One claim (one claim time), each delivered once: no back-off, no lease expiry.
    expect(new Set(infos.map((info) => info.startedAt)).size).toBe(1);
    expect(infos.map((info) => info.attempts)).toEqual(good.map(() => 1));

    const letter = await waitFor(async () => (await app.deadLetters()).find((l) => l.id === bad.id), 3000, 'the dead letter');
    expect(letter.error.type).toBe(expected.type ?? 'DecodeError');
    expect(letter.error.message).toMatch(expected.message);
    expect(await bad.info()).toMatchObject({ id: bad.id, state: 'FAILURE', error: { type: expected.type ?? 'DecodeError' } });
    expect(messages).not.toContain('claim failed; backing off');
    expect(messages).not.toContain('could not record task outcome');
    // and the worker goes on
    expect(await (await echo.delay('later')).get({ timeout: 5000 })).toBe('later');
  } finally {
    await worker.stop();
  }
}
