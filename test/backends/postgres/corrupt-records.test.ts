import { afterEach, expect, it } from 'vitest';
import { createApp, type Errand } from '../../../src/index.js';
import { describePostgres, dropSchema, testClient, uniquePostgresUrl } from '../../support/postgres.js';
import { expectCorruptRecordIsolated, expectUnreadableReported, messageLogger } from '../../support/unreadable.js';

/**
 * One way a task row can be garbage, written straight into it with a raw
 * connection. Typed columns (times, counts) cannot hold garbage in
 * PostgreSQL; the text ones (the state, the JSON columns) can.
 */
interface Garbage {
  what: string;
  column: string;
  value: string;
  /** The dead letter's error type. */
  type?: string;
  message: RegExp;
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const GARBAGE: Garbage[] = [
  { what: 'the payload is not JSON', column: 'payload', value: '["unterminated', message: /not valid JSON/ },
  { what: 'the payload is not an array', column: 'payload', value: '{"a":1}', message: /not an array/ },
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
  { what: 'progress_json has no current', column: 'progress_json', value: '{"total":3}', message: /column progress_json/ },
  { what: 'tags is not an array of strings', column: 'tags', value: '[1,2]', message: /column tags/ },
  { what: 'the name is unknown', column: 'name', value: 'corrupt.nobody', type: 'UnknownTaskError', message: /corrupt\.nobody/ },
];

describePostgres('postgres: corrupt task rows', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function setup() {
    const url = uniquePostgresUrl('corrupt');
    const schema = new URL(url).searchParams.get('schema')!;
    const { logger, messages } = messageLogger();
    const app: Errand = createApp({ broker: url, logger });
    cleanups.push(async () => {
      await app.close();
      await dropSchema(url);
    });
    return {
      app,
      messages,
      echo: app.task('corrupt.echo', (_ctx, value: unknown) => value),
      /** Writes `value` into `column` of task `id` with a connection of its own. */
      async corrupt(id: string, column: string, value: string) {
        const client = await testClient();
        try {
          const result = await client.query(`UPDATE "${schema}".tasks SET ${column} = $1 WHERE id = $2`, [value, id]);
          expect(result.rowCount).toBe(1);
        } finally {
          await client.end();
        }
      },
    };
  }

  it.each(GARBAGE)('when $what, the task is dead-lettered and its neighbours in the same claim run at once', async (garbage) => {
    const env = setup();
    await expectCorruptRecordIsolated({
      ...env,
      corrupt: (id) => env.corrupt(id, garbage.column, garbage.value),
      expected: garbage,
    });
  });

  it.each([
    { column: 'result_json', value: '{"result":' },
    { column: 'error_json', value: '{"type":"E"' },
    { column: 'progress_json', value: '[' },
    { column: 'state', value: 'LOST' },
    { column: 'tags', value: '{"not":"an array"}' },
  ])(
    'info() of a row whose $column is unreadable is FAILURE with a DecodeError naming the column; get(), revoke and the poll route say so',
    async ({ column, value }) => {
      const env = setup();
      const r = await env.echo.delay('x');
      await env.corrupt(r.id, column, value);
      await expectUnreadableReported(env.app, r, `column ${column}`);
    },
  );
});
