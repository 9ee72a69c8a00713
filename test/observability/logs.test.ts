import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed log lines, asserted field by field
type Line = Record<string, any>;

/** A pino logger writing JSON lines into an array. */
function capture(): { lines: Line[]; logger: ReturnType<typeof pino> } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

describe('worker logs', () => {
  let app: Errand | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a failure logs the error’s class, message and stack, with the task id, name, attempt and duration', async () => {
    const { lines, logger } = capture();
    app = createApp({ broker: 'memory://', logger });
    const charge = app.task('log.charge', () => {
      throw new PaymentDeclined('card declined');
    });
    const odd = app.task('log.odd', () => {
      throw { code: 42 }; // not an Error: still logged with a type and a message
    });
    const ok = app.task('log.ok', () => 1);
    await app.worker({ handleSignals: false, claimWaitMs: 20 }).start();
    const [a, b, c] = [await charge.delay(), await odd.delay(), await ok.delay()];
    await Promise.all([a, b, c].map((r) => r.get({ timeout: 5000 }).catch(() => undefined)));
    const failed = lines.find((l) => l.msg === 'task failed' && l.taskId === a.id)!;
    expect(failed).toMatchObject({ task: 'log.charge', attempt: 1, err: { type: 'PaymentDeclined', message: 'card declined' } });
    expect(failed.err.stack).toMatch(/PaymentDeclined: card declined\n\s+at /);
    expect(failed.durationMs).toBeGreaterThanOrEqual(0);
    const weird = lines.find((l) => l.msg === 'task failed' && l.taskId === b.id)!;
    expect(weird.err.message).toBe('the task threw an object, not an Error: {"code":42}');
    const succeeded = lines.find((l) => l.msg === 'task succeeded' && l.taskId === c.id)!;
    expect(succeeded).toMatchObject({ task: 'log.ok', attempt: 1, level: 20 });
  });
});
