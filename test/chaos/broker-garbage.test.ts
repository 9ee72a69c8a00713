import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { createApp, type AsyncResult } from '../../src/index.js';
import { messageLogger } from '../support/unreadable.js';
import { describeChaos, type ChaosNamespace } from './brokers.js';
import { reportFigures, sleep, until } from './harness.js';

// Garbage written straight into the broker → dead letters, workers keep going.
// A worker runs a steady stream of good tasks while a raw client (ioredis, or
// a better-sqlite3 connection of its own) writes task records that errand
// could never have written: bad JSON in each field, missing fields, a payload
// that is no array, an unknown task name, huge nesting, binary bytes. Every
// good task must succeed without a stall; every garbage record must end as a
// dead letter (or, when it can never be claimed, read as a FAILURE), with a
// clear error; the worker must never back off, crash or fail to record.

const DURATION_MS = Number(process.env.CHAOS_GARBAGE_MS ?? 5000);
const DEEP = 20_000;
const deepArrays = '['.repeat(DEEP) + ']'.repeat(DEEP);
const deepObjects = `[${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}]`;

interface Kind {
  name: string;
  /** 'dead': claimed and dead-lettered; 'failure': never claimable, reads as FAILURE. */
  ends: 'dead' | 'failure';
  /** The dead letter's error type (default DecodeError). */
  type?: string;
}

/** Writes one garbage record of `kind` with id `id`, claimable now when it can be. */
type GarbageWriter = (kind: string, id: string) => Promise<void>;

interface RawBroker {
  kinds: Kind[];
  write: GarbageWriter;
  close(): Promise<void>;
}

function redisGarbage(ns: ChaosNamespace): RawBroker {
  const url = new URL(ns.url);
  const base = `{${url.searchParams.get('prefix')}}:`;
  url.search = '';
  const client = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
  const dead = (name: string, type?: string): Kind => ({ name, ends: 'dead', type });
  const kinds = [
    dead('j-not-json'),
    dead('j-missing'),
    dead('j-binary'),
    dead('j-wrong-types'),
    dead('j-unknown-task', 'UnknownTaskError'),
    dead('p-not-json'),
    dead('p-missing'),
    dead('p-not-array'),
    dead('p-binary'),
    dead('p-deep-arrays'),
    dead('p-deep-objects'),
    dead('m-garbage'),
    dead('m-version-not-a-number'),
    dead('m-unknown-state'),
    dead('m-missing'),
    dead('m-binary'),
    dead('x-not-a-number'),
    dead('E-not-json'),
    dead('E-not-an-error'),
    dead('P-not-json'),
    dead('P-deep'),
    dead('only-a-payload'),
  ];
  return {
    kinds,
    async write(kind, id) {
      const t = Date.now();
      const fields: Record<string, string | Buffer> = {
        j: `"name":"chaos.good","queue":"default","enqueuedAt":${t}`,
        p: '[0]',
        m: `PENDING|1|0|0|${t}||||`,
      };
      const [field, what] = kind.split('-', 2) as [string, string];
      const set = (value: string | Buffer): void => {
        fields[field] = value;
      };
      if (kind === 'only-a-payload') {
        delete fields.j;
        delete fields.m;
      } else if (what === 'missing') delete fields[field];
      else if (what === 'binary') set(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b, 0x22]));
      else if (kind === 'j-not-json') set('"name":"chaos.good","queue":');
      else if (kind === 'j-wrong-types') set('"name":["chaos.good"],"queue":"default","enqueuedAt":"now"');
      else if (kind === 'j-unknown-task') set(`"name":"chaos.nobody","queue":"default","enqueuedAt":${t}`);
      else if (kind === 'p-not-json') set('[1,');
      else if (kind === 'p-not-array') set('{"a":1}');
      else if (kind === 'p-deep-arrays') set(deepArrays);
      else if (kind === 'p-deep-objects') set(deepObjects);
      else if (kind === 'm-garbage') set('\u0000|||');
      else if (kind === 'm-version-not-a-number') set(`PENDING|one|0|0|${t}||||`);
      else if (kind === 'm-unknown-state') set(`QUEUED|1|0|0|${t}||||`);
      else if (kind === 'x-not-a-number') set('tomorrow');
      else if (kind === 'E-not-json') set('{"type":"E","message":');
      else if (kind === 'E-not-an-error') set('"just a string"');
      else if (kind === 'P-not-json') set('{"current":1,');
      else if (kind === 'P-deep') set(`{"current":1,"meta":${deepArrays}}`);
      else throw new Error(`unknown garbage kind ${kind}`);
      await client.multi().hset(`${base}t:${id}`, fields).rpush(`${base}q:default`, id).zadd(`${base}w:default`, 0, 'w').exec();
    },
    async close() {
      client.disconnect();
    },
  };
}

function sqliteGarbage(ns: ChaosNamespace): RawBroker {
  const db = new Database(ns.url.slice('sqlite://'.length));
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare(
    `INSERT INTO tasks (id, name, queue, state, version, payload, attempts, retries, enqueued_at, run_at,
                        finished_at, result_json, error_json, progress_json)
     VALUES (@id, @name, 'default', @state, 1, @payload, 0, @retries, @enqueuedAt, @runAt, @finishedAt, @result, @error, @progress)`,
  );
  const dead = (name: string, type?: string): Kind => ({ name, ends: 'dead', type });
  const kinds: Kind[] = [
    dead('payload-not-json'),
    dead('payload-not-array'),
    dead('payload-a-number'),
    dead('payload-blob'),
    dead('payload-deep-arrays'),
    dead('payload-deep-objects'),
    dead('result-not-json'),
    dead('error-not-json'),
    dead('error-not-an-error'),
    dead('progress-not-json'),
    dead('progress-deep'),
    dead('name-unknown', 'UnknownTaskError'),
    dead('name-blob'),
    dead('enqueued-at-text'),
    dead('finished-at-text'),
    dead('retries-text'),
    { name: 'state-unknown', ends: 'failure' },
    { name: 'run-at-text', ends: 'failure' },
  ];
  return {
    kinds,
    async write(kind, id) {
      const t = Date.now();
      const row: Record<string, unknown> = {
        id,
        name: 'chaos.good',
        state: 'PENDING',
        payload: '[0]',
        enqueuedAt: t,
        runAt: t,
        retries: 0,
        finishedAt: null,
        result: null,
        error: null,
        progress: null,
      };
      const patch: Record<string, Record<string, unknown>> = {
        'payload-not-json': { payload: '[1,' },
        'payload-not-array': { payload: '{"a":1}' },
        'payload-a-number': { payload: 5 },
        'payload-blob': { payload: Buffer.from([0xff, 0xfe, 0x00, 0x80]) },
        'payload-deep-arrays': { payload: deepArrays },
        'payload-deep-objects': { payload: deepObjects },
        'result-not-json': { result: '{"r":' },
        'error-not-json': { error: 'oops' },
        'error-not-an-error': { error: '[1,2]' },
        'progress-not-json': { progress: '{"current":' },
        'progress-deep': { progress: `{"current":1,"meta":${deepArrays}}` },
        'name-unknown': { name: 'chaos.nobody' },
        'name-blob': { name: Buffer.from('chaos.good') },
        'enqueued-at-text': { enqueuedAt: 'yesterday' },
        'finished-at-text': { finishedAt: 'earlier' },
        'retries-text': { retries: 'none' },
        'state-unknown': { state: 'QUEUED' },
        'run-at-text': { runAt: 'soon' },
      };
      if (!patch[kind]) throw new Error(`unknown garbage kind ${kind}`);
      insert.run({ ...row, ...patch[kind] });
    },
    async close() {
      db.close();
    },
  };
}

describeChaos('broker-garbage', (broker) => {
  it('garbage written straight into the broker ends as dead letters; good tasks run on without a stall', async () => {
    const ns = await broker.namespace('garbage');
    const { logger, messages: logs } = messageLogger();
    const app = createApp({ broker: ns.url, logger, deadLetterLimit: 100_000 });
    const raw = broker.name === 'redis' ? redisGarbage(ns) : sqliteGarbage(ns);
    try {
      const good = app.task('chaos.good', async (_ctx, i: number) => i);
      const worker = app.worker({ concurrency: 20, handleSignals: false, claimWaitMs: 500 });
      await worker.start();

      const results: Array<AsyncResult<number>> = [];
      const garbage: Array<{ id: string; kind: Kind }> = [];
      const startedAt = Date.now();
      for (let tick = 0; Date.now() - startedAt < DURATION_MS; tick++) {
        results.push(await good.delay(2 * tick), await good.delay(2 * tick + 1));
        const kind = raw.kinds[tick % raw.kinds.length]!;
        const id = randomUUID();
        await raw.write(kind.name, id);
        garbage.push({ id, kind });
        await sleep(10);
      }
      const producedFor = Date.now() - startedAt;

      const values = await Promise.all(results.map((r) => r.get({ timeout: 20_000 })));
      expect(values).toEqual(results.map((_, i) => i));
      const expected = garbage.filter((g) => g.kind.ends === 'dead');
      const letters = await until(
        'every claimable garbage record to be dead-lettered',
        async () => {
          const all = await app.deadLetters(100_000);
          const byId = new Map(all.map((l) => [l.id, l]));
          return expected.every((g) => byId.has(g.id)) ? byId : undefined;
        },
        20_000,
        250,
      );
      expect(worker.state).toBe('running');

      // every garbage record: a dead letter with a clear error, or (never claimable) a FAILURE
      const problems: string[] = [];
      for (const { id, kind } of garbage) {
        const info = await app.result(id).info();
        if (kind.ends === 'dead') {
          const letter = letters.get(id)!;
          const type = kind.type ?? 'DecodeError';
          if (letter.error.type !== type)
            problems.push(`${kind.name}: dead letter ${letter.error.type}: ${letter.error.message}`);
          if (type === 'DecodeError' && !letter.error.message.includes(id)) {
            problems.push(`${kind.name}: the error does not name the task: ${letter.error.message}`);
          }
          if (info !== null && info.state !== 'FAILURE') problems.push(`${kind.name}: reads as ${info.state}`);
        } else if (info?.state !== 'FAILURE' || info.error?.type !== 'DecodeError' || !info.error.message.includes(id)) {
          problems.push(`${kind.name}: reads as ${JSON.stringify(info)?.slice(0, 200)}`);
        }
      }
      expect(problems).toEqual([]);
      const badLogs = logs.filter((msg) =>
        ['claim failed; backing off', 'could not record task outcome', 'worker maintenance failed'].includes(msg),
      );
      expect(badLogs).toEqual([]);

      // the longest wait between two good completions while the stream ran
      const infos = await Promise.all(results.map((r) => r.info()));
      const finished = infos.map((info) => info!.finishedAt!).sort((a, b) => a - b);
      let longestGapMs = finished[0]! - startedAt;
      for (let i = 1; i < finished.length; i++) longestGapMs = Math.max(longestGapMs, finished[i]! - finished[i - 1]!);
      const redelivered = infos.filter((info) => info!.attempts > 1).length;
      reportFigures('broker-garbage', broker.name, {
        producedForMs: producedFor,
        good: results.length,
        goodSucceeded: values.length,
        goodRedelivered: redelivered,
        garbage: garbage.length,
        garbageKinds: raw.kinds.length,
        deadLettered: expected.length,
        failureOnly: garbage.length - expected.length,
        longestGapMs,
        workerErrors: badLogs.length,
      });
      expect(redelivered).toBe(0);
      expect(longestGapMs).toBeLessThan(1000);
      await worker.stop();
    } finally {
      await raw.close();
      await app.close();
    }
  });
});
