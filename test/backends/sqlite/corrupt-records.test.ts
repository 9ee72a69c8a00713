import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../../src/index.js';
import { expectCorruptRecordIsolated, expectUnreadableReported, messageLogger } from '../../support/unreadable.js';

/** One way a task row can be garbage, written straight into it with a raw connection. */
interface Garbage {
  what: string;
  column: string;
  value: unknown;
  /** The dead letter's error type. */
  type?: string;
  message: RegExp;
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const GARBAGE: Garbage[] = [
  { what: 'the payload is not JSON', column: 'payload', value: '["unterminated', message: /not valid JSON/ },
  { what: 'the payload is not an array', column: 'payload', value: '{"a":1}', message: /not an array/ },
  { what: 'the payload is a blob', column: 'payload', value: Buffer.from([0xff, 0xfe, 0x00, 0x80]), message: /not valid JSON/ },
  { what: 'the payload nests 200000 arrays', column: 'payload', value: deep(200_000), message: /nested deeper than/ },
  {
    what: 'the payload nests 200000 objects',
    column: 'payload',
    value: `[${deepObject(200_000)}]`,
    message: /nested deeper than/,
  },
  { what: 'result_json is not JSON', column: 'result_json', value: '{"r":', message: /column result_json/ },
  { what: 'result_json nests 200000 arrays', column: 'result_json', value: deep(200_000), message: /column result_json/ },
  { what: 'error_json is not JSON', column: 'error_json', value: 'nope', message: /column error_json/ },
  { what: 'error_json is not an error object', column: 'error_json', value: '[1]', message: /column error_json/ },
  { what: 'progress_json is not JSON', column: 'progress_json', value: '{"current":', message: /column progress_json/ },
  { what: 'enqueued_at is text', column: 'enqueued_at', value: 'yesterday', message: /column enqueued_at/ },
  { what: 'the name is a blob', column: 'name', value: Buffer.from('corrupt.echo'), message: /column name/ },
  { what: 'the name is unknown', column: 'name', value: 'corrupt.nobody', type: 'UnknownTaskError', message: /corrupt\.nobody/ },
];

interface Env {
  app: Errand;
  file: string;
  echo: ReturnType<typeof defineEcho>;
  logs: string[];
  /** Writes `value` into `column` of task `id` with a connection of its own. */
  corrupt(id: string, column: string, value: unknown): void;
}

function defineEcho(app: Errand) {
  return app.task('corrupt.echo', (_ctx, value: unknown) => value);
}

describe('sqlite: corrupt task rows', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function setup(): Env {
    const file = join(tmpdir(), `errand-corrupt-${randomUUID()}`, 'errand.db');
    const { logger, messages: logs } = messageLogger();
    const app = createApp({ broker: `sqlite://${file}`, logger });
    cleanups.push(async () => {
      await app.close();
      rmSync(dirname(file), { recursive: true, force: true });
    });
    return {
      app,
      file,
      echo: defineEcho(app),
      logs,
      corrupt(id, column, value) {
        const db = new Database(file);
        try {
          db.pragma('busy_timeout = 5000');
          expect(db.prepare(`UPDATE tasks SET ${column} = ? WHERE id = ?`).run(value, id).changes).toBe(1);
        } finally {
          db.close();
        }
      },
    };
  }

  it.each(GARBAGE)('when $what, the task is dead-lettered and its neighbours in the same claim run at once', async (garbage) => {
    const env = setup();
    await expectCorruptRecordIsolated({
      ...env,
      messages: env.logs,
      corrupt: (id) => env.corrupt(id, garbage.column, garbage.value),
      expected: garbage,
    });
  });

  it.each([
    { column: 'result_json', value: '{"result":' },
    { column: 'error_json', value: '{"type":"E"' },
    { column: 'progress_json', value: '[' },
    { column: 'state', value: 'LOST' },
    { column: 'run_at', value: 'soon' },
    { column: 'version', value: 'two' },
  ])(
    'info() of a row whose $column is unreadable is FAILURE with a DecodeError naming the column; get(), revoke and the poll route say so',
    async ({ column, value }) => {
      const env = setup();
      const r = await env.echo.delay('x');
      env.corrupt(r.id, column, value);
      await expectUnreadableReported(env.app, r, `column ${column}`);
    },
  );
});
