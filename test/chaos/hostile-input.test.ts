import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest, exchange, type Exchange } from '../fixtures/chaos-web/raw-http.js';
import { closePayload, encodeFrame, readUntilClosed, type FrameSpec, type HttpHead } from '../fixtures/chaos-web/raw-ws.js';
import { startWebChild, type WebChild } from '../fixtures/chaos-web/web-child.js';
import { startChild, stopChild } from '../support/child.js';
import { waitFor } from '../support/wait.js';
import { reportFigures } from './harness.js';

// Property-based fuzzing of every endpoint of the reference app, from raw sockets, against the web
// process running as a child (a crash is the child exiting). Whatever a client sends, the answer is
// a 4xx with a JSON error body (or a success for a valid request), never a 5xx, never a crash,
// never a request header echoed into a response header; a WebSocket attempt ends in a clean close
// or a clean HTTP refusal. CHAOS_RUNS scales the runs (CHAOS_BUDGET_MS caps each property, 9 s by
// default); CHAOS_SEED replays a failure.

const RUNS = Number(process.env.CHAOS_RUNS ?? 400);
const SEED = process.env.CHAOS_SEED === undefined ? undefined : Number(process.env.CHAOS_SEED);
/** Each property stops after this long (fast-check's own budget), so the file stays well under 90 s. */
const BUDGET_MS = Number(process.env.CHAOS_BUDGET_MS ?? 9_000);
const params = (numRuns = RUNS) => ({
  numRuns,
  ...(SEED === undefined ? {} : { seed: SEED }),
  interruptAfterTimeLimit: BUDGET_MS,
  markInterruptAsFailure: false,
});

/** Cases each property ran (fast-check stops a property at its time budget), for the report. */
const cases: Record<string, number> = {};
const tally = (kind: string): void => void (cases[kind] = (cases[kind] ?? 0) + 1);

/** Every free-text request header value starts with this: finding it in a response header is a reflection. */
const CANARY = 'rflq7';
/** RFC 6455: the base64 of 16 bytes (as ws checks it). */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token characters: what a Sec-WebSocket-Protocol element may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const WS_PATH = /^(?:\/users)?\/ws\/task_status\/([^/]+)\/?$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/**
 * A clean WebSocket ending carries a code a peer may send (RFC 6455 §7.4): errand's own (1000, 4400,
 * 4404...), ws's protocol errors (1002, 1007, 1009), or the client's own valid code echoed back.
 * Never 1005/1006/1015 (reserved for "no code"/"abnormal") or anything out of range.
 */
function isCleanCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

let web: WebChild;
let origin: string;
const ids = { pending: '', success: '', failure: '' };
/** Each task's status version (its ETag). */
const versions = { pending: 0, success: 0, failure: 0 };

async function statusOf(id: string): Promise<{ state?: string; version?: number }> {
  const res = await fetch(`${web.base}/task_status/?task_id=${id}`);
  return (await res.json()) as { state?: string; version?: number };
}

async function stateOf(id: string): Promise<string | undefined> {
  return (await statusOf(id)).state;
}

beforeAll(async () => {
  web = await startWebChild({ DEMO_API_DELAY_MS: '0', DEMO_API_FAILURE_RATE: '0' });
  origin = web.base;
  // A worker for a moment, so there are finished tasks (SUCCESS, FAILURE) besides a PENDING one.
  const worker = await startChild(
    'app/worker.ts',
    { ERRAND_BROKER: web.broker, DEMO_API_URL: `${web.base}/fake-api/subscribe`, LOG_LEVEL: 'warn' },
    'worker ready',
  );
  try {
    ids.success = await web.enqueue('ok@example.com');
    ids.failure = await web.enqueue('please-fail@example.com');
    await waitFor(
      async () => (await stateOf(ids.success)) === 'SUCCESS' && (await stateOf(ids.failure)) === 'FAILURE',
      20_000,
      'the worker to finish two tasks',
    );
  } finally {
    await stopChild(worker, 'SIGTERM');
  }
  ids.pending = await web.enqueue();
  for (const kind of ['pending', 'success', 'failure'] as const) versions[kind] = (await statusOf(ids[kind])).version ?? 0;
}, 60_000);

afterAll(async () => {
  if (!web) return;
  const wasAlive = web.alive();
  const output = web.child.output();
  const code = await web.stop();
  expect(wasAlive, output).toBe(true);
  expect(code, output).toBe(0);
  // Nothing the fuzzer sent made the server log an error (a 5xx, a failed session).
  expect(output.split('\n').filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
}, 30_000);

// ---------------------------------------------------------------------------------------------
// Checks

function expectAlive(): void {
  if (!web.alive()) throw new Error(`the web process exited:\n${web.child.output()}`);
}

function describeRequest(request: Buffer): string {
  const text = request.toString('latin1');
  return JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text);
}

/** No request-controlled text in a response header, and no header smuggled in with CR/LF. */
function expectNoReflection(head: HttpHead, what: string): void {
  for (const [name, values] of Object.entries(head.headers)) {
    if (name.includes(CANARY) || name === 'x-injected') throw new Error(`${what}: injected response header ${name}\n${head.raw}`);
    for (const value of values) {
      if (value.toLowerCase().includes(CANARY)) throw new Error(`${what}: request text reflected in ${name}: ${value}`);
    }
  }
}

/** A 4xx is JSON `{ error: string, ... }`. */
function expectJsonError(head: HttpHead, body: Buffer, what: string, isHead: boolean): void {
  const type = head.headers['content-type']?.[0] ?? '';
  if (!/^application\/json\b/.test(type)) throw new Error(`${what}: ${head.status} is not JSON (${type})\n${head.raw}`);
  if (isHead && body.length === 0) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error(`${what}: ${head.status} body is not JSON: ${JSON.stringify(body.toString('latin1'))}`);
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== 'string') throw new Error(`${what}: ${head.status} JSON has no error word: ${body.toString('utf8')}`);
}

interface Verdict {
  /** The connection may end without an answer (the request was not HTTP at all). */
  allowClosed?: boolean;
  isHead?: boolean;
}

/** The invariants of every HTTP answer; returns the head (undefined when the connection just closed). */
function checkAnswer(result: Exchange, request: Buffer, verdict: Verdict = {}): HttpHead | undefined {
  expectAlive();
  const what = describeRequest(request);
  if (result.kind === 'timeout') throw new Error(`${what}: no answer within the timeout`);
  if (result.kind === 'closed') {
    if (verdict.allowClosed) return undefined;
    throw new Error(`${what}: connection closed without an answer (${JSON.stringify(result.received.toString('latin1'))})`);
  }
  const { head, body } = result;
  result.socket?.destroy();
  if (!(head.status >= 100 && head.status < 500)) throw new Error(`${what}: answered ${head.status}\n${head.raw}\n${body}`);
  expectNoReflection(head, what);
  if (head.status >= 400) expectJsonError(head, body, what, verdict.isHead ?? false);
  return head;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries (built inside the tests: they need the task ids and the port)

const printable = (maxLength = 30): fc.Arbitrary<string> => fc.string({ unit: 'grapheme-ascii', maxLength });
const latin1Char = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));
/** Free text a client controls: printable ASCII or Latin-1 (what a header value may hold), canary first. */
const freeText = fc.oneof(printable(40), fc.string({ unit: latin1Char, maxLength: 30 })).map((s) => `${CANARY}${s}`);
const csrfToken = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const wsKey = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64'));

function idArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(ids.pending, ids.success, ids.failure) },
    { weight: 2, arbitrary: fc.uuid() },
    fc.constantFrom(
      'not-a-uuid',
      '',
      '%00',
      '..',
      '%2e%2e',
      'null',
      '-1',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      ids.pending.toUpperCase(),
      `${ids.pending}%00`,
      `${ids.pending}x`,
      '%ZZ',
      'a'.repeat(200),
    ),
    freeText.map(encodeURIComponent),
  );
}

const PAGES = ['/', '/form/', '/form_ws/', '/form_sse/', '/users/form/'];
const STATIC = [
  '/static/errand-client.js',
  '/static/bootstrap/css/bootstrap.min.css',
  '/static/bootstrap/js/bootstrap.bundle.min.js',
  '/favicon.ico',
];

function pathArb(): fc.Arbitrary<string> {
  const id = idArb();
  const segment = fc.oneof(
    fc.webSegment(),
    freeText.map(encodeURIComponent),
    fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%0d%0aX-Injected:%20yes',
      '%ZZ',
      '%',
      '%c0%ae',
      ';',
      'a'.repeat(300),
      'task_status',
      'ws',
    ),
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PAGES, ...STATIC, '/task_status/', '/users/task_status/', '/fake-api/subscribe') },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', '/users'), id).map(([prefix, i]) => `${prefix}/tasks/${i}/events`) },
    fc.constantFrom(
      '/nowhere',
      '/static/bootstrap/',
      '/static/bootstrap/../../package.json',
      '/static/bootstrap/%2e%2e/%2e%2e/package.json',
      '/static/bootstrap/..%2f..%2f..%2fpackage.json',
      '/static/bootstrap/css/%00',
      '/static/bootstrap/css',
      '//form/',
      '/form',
      '/FORM/',
      '/users/',
      '/task_status',
      '/users/tasks//events',
      '/form/%0d%0aX-Injected:%20yes',
    ),
    fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    fc.array(segment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  );
}

function queryArb(): fc.Arbitrary<string> {
  const key = fc.constantFrom(
    'task_id',
    'task_id[]',
    'task_id[0]',
    'lastEventId',
    '__proto__',
    'constructor',
    'toString',
    CANARY,
  );
  const value = fc.oneof(
    idArb(),
    freeText.map(encodeURIComponent),
    fc.constantFrom('', '%', '%zz', '%00', '[]', '999999999999999999999', '%0d%0aX-Injected:%20yes'),
  );
  return fc.oneof(
    fc.constant(''),
    fc
      .array(fc.tuple(key, value), { minLength: 1, maxLength: 4 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
    fc.webQueryParameters().map((q) => `?${q}`),
  );
}

function headerArb(): fc.Arbitrary<readonly [string, string]> {
  const pair = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>) => fc.tuple(name, value);
  return fc.oneof(
    pair(fc.constant('accept'), fc.oneof(fc.constantFrom('*/*', 'application/json', 'text/event-stream', 'text/html'), freeText)),
    pair(fc.constant('if-none-match'), fc.oneof(fc.constantFrom('"1"', '"2"', '"4"', 'W/"1"', '*', '"1", "2"', ''), freeText)),
    pair(
      fc.constant('last-event-id'),
      fc.oneof(fc.constantFrom('0', '1', '3', '4', '999999999999999', '1e3', '-1', ''), freeText),
    ),
    pair(fc.constant('origin'), fc.oneof(fc.constantFrom(origin, 'https://evil.example', 'null', ''), freeText)),
    pair(
      fc.constant('cookie'),
      fc.oneof(
        csrfToken.map((t) => `csrftoken=${t}`),
        freeText,
        fc.constantFrom('csrftoken=', 'csrftoken="x"; a=b', ';;;', '='),
      ),
    ),
    pair(fc.constant('x-csrftoken'), fc.oneof(csrfToken, freeText)),
    pair(
      fc.constant('range'),
      fc.oneof(
        fc.constantFrom('bytes=0-10', 'bytes=-5', 'bytes=999999999-', 'bytes=5-1', 'bytes=0-1,2-3,4-5', 'items=0-1'),
        freeText,
      ),
    ),
    pair(
      fc.constant('accept-encoding'),
      fc.oneof(fc.constantFrom('gzip', 'br', 'deflate, gzip;q=0', 'identity;q=0', '*'), freeText),
    ),
    pair(
      fc.constantFrom('if-modified-since', 'if-unmodified-since'),
      fc.oneof(fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', 'yesterday'), freeText),
    ),
    pair(
      fc.constantFrom(
        'user-agent',
        'referer',
        'x-forwarded-for',
        'x-forwarded-host',
        'x-forwarded-proto',
        'x-request-id',
        'forwarded',
        'via',
      ),
      freeText,
    ),
    pair(fc.constantFrom('authorization', 'access-control-request-method', 'access-control-request-headers'), freeText),
    pair(fc.constant('expect'), fc.oneof(fc.constantFrom('100-continue', '100-Continue', '200-ok', ''), freeText)),
    pair(fc.constant('connection'), fc.constantFrom('close', 'keep-alive', 'Upgrade', 'TE, close', 'x-forwarded-for')),
    pair(fc.constant('te'), fc.constantFrom('trailers', 'gzip', 'chunked')),
    pair(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), freeText),
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'text/plain',
  'multipart/form-data; boundary=zz',
  'application/octet-stream',
  'application/json;;;',
  '*/*',
  '',
];

const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .record({ email: fc.oneof(fc.emailAddress(), printable(60)), username: fc.oneof(printable(120), freeText) })
    .chain((v) => fc.constantFrom(JSON.stringify(v), new URLSearchParams(v).toString()))
    .map((s) => Buffer.from(s)),
  fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)),
  printable(200).map((s) => Buffer.from(s)),
  fc
    .constantFrom(
      '{"__proto__":{"polluted":1},"email":"a@b.co","username":"x"}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{',
      '[]',
      'null',
      '"x"',
      'email=a%40b.co&email=b%40c.co&username=c',
      'email[]=x&username[]=y',
      'email=%&username=%zz',
      '\u0000',
    )
    .map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.constant(Buffer.alloc(17 * 1024, 0x61)), // over the app's 16 KiB body limit
);

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];

// ---------------------------------------------------------------------------------------------
// HTTP

describe('HTTP endpoints under arbitrary requests', () => {
  it('well-formed requests of any method, path, query, header and body: 4xx JSON or success, never 5xx or a reflection', async () => {
    const host = `127.0.0.1:${web.port}`;
    const request = fc.record({
      method: fc.constantFrom(...METHODS),
      path: pathArb(),
      query: queryArb(),
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
      host: fc.oneof(
        { weight: 6, arbitrary: fc.constant<string | null>(host) },
        fc.constantFrom<string | null>('evil.example', 'localhost', `${CANARY}.example`, '', null),
      ),
      headers: fc.array(headerArb(), { maxLength: 6 }),
      contentType: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), freeText), { nil: undefined }),
      body: fc.option(bodyArb, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        tally('HTTP requests (method, path, query, headers, body)');
        const headers: (readonly [string, string])[] = [...(r.host === null ? [] : [['host', r.host] as const]), ...r.headers];
        if (r.contentType !== undefined) headers.push(['content-type', r.contentType]);
        const bytes = buildRequest({
          method: r.method,
          target: `${r.path}${r.query}`,
          headers,
          body: r.body,
          version: r.version,
        });
        const result = await exchange(web.port, bytes, { head: r.method === 'HEAD' });
        checkAnswer(result, bytes, { isHead: r.method === 'HEAD' });
      }),
      params(),
    );
  }, 60_000);

  it('valid requests to every endpoint succeed (2xx, or 304 when the ETag matches)', async () => {
    const host = `127.0.0.1:${web.port}`;
    const form = fc.record({
      email: fc.stringMatching(/^[a-z0-9]{1,20}@[a-z]{1,10}\.example$/),
      username: printable(90).filter((s) => s.trim().length > 0),
    });
    const valid = fc.oneof(
      fc.tuple(fc.constantFrom(...PAGES, ...STATIC), queryArb()).map(([path, query]) => ({
        method: 'GET',
        target: `${path}${query}`,
        headers: [] as [string, string][],
        body: undefined as Buffer | undefined,
        expect: path === '/favicon.ico' ? [204] : [200],
      })),
      fc
        .tuple(fc.constantFrom('', '/users'), fc.constantFrom('pending', 'success', 'failure'), fc.boolean())
        .map(([prefix, kind, conditional]) => ({
          method: 'GET',
          target: `${prefix}/task_status/?task_id=${ids[kind as keyof typeof ids]}`,
          headers: (conditional ? [['if-none-match', `"999", "${versions[kind as keyof typeof versions]}"`]] : []) as [
            string,
            string,
          ][],
          body: undefined,
          expect: conditional ? [304] : [200],
        })),
      fc
        .tuple(
          fc.constantFrom('', '/users'),
          fc.constantFrom('pending', 'success', 'failure'),
          fc.constantFrom('', '0', '1', '999'),
        )
        .map(([prefix, kind, lastEventId]) => ({
          method: 'GET',
          target: `${prefix}/tasks/${ids[kind as keyof typeof ids]}/events`,
          headers: (lastEventId === '' ? [] : [['last-event-id', lastEventId]]) as [string, string][],
          body: undefined,
          // A finished task whose last event the client has answers 204 (EventSource stops).
          expect: lastEventId === '999' && kind !== 'pending' ? [204] : [200],
        })),
      fc
        .tuple(form, csrfToken, fc.constantFrom('/form/', '/form_ws/', '/form_sse/'), fc.boolean())
        .map(([f, token, path, withOrigin]) => ({
          method: 'POST',
          target: path,
          headers: [
            ['content-type', 'application/x-www-form-urlencoded'],
            ['cookie', `csrftoken=${token}`],
            ['x-csrftoken', token],
            ...(withOrigin ? [['origin', origin]] : []),
          ] as [string, string][],
          body: Buffer.from(new URLSearchParams(f).toString()),
          expect: [200],
        })),
      form.map((f) => ({
        method: 'POST',
        target: '/users/form/',
        headers: [
          ['content-type', 'application/json'],
          ['origin', origin],
        ] as [string, string][],
        body: Buffer.from(JSON.stringify(f)),
        expect: [200],
      })),
    );
    await fc.assert(
      fc.asyncProperty(valid, async (r) => {
        tally('valid requests to every endpoint');
        const bytes = buildRequest({ method: r.method, target: r.target, headers: [['host', host], ...r.headers], body: r.body });
        const head = checkAnswer(await exchange(web.port, bytes), bytes)!;
        if (!r.expect.includes(head.status))
          throw new Error(`${describeRequest(bytes)}: ${head.status}, wanted ${r.expect}\n${head.raw}`);
      }),
      params(Math.ceil(RUNS / 2)),
    );
  }, 60_000);

  it('malformed HTTP (bad request lines, CR/LF in headers, smuggling, huge heads, garbage): 4xx JSON or a closed connection', async () => {
    const host = `host: 127.0.0.1:${web.port}\r\n`;
    const raw = fc.oneof(
      // a broken request line
      fc
        .tuple(
          fc.constantFrom('GET', 'get', 'G ET', 'GET\t', '', 'CONNECT', 'PRI', 'POST'),
          fc.oneof(
            pathArb(),
            freeText,
            fc.constantFrom('*', '', ' ', '/\u0000', '/a b', '/\u00ff', 'http://evil.example/', '/%'),
          ),
          fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/x', 'http/1.1', ''),
        )
        .map(([m, t, v]) => `${m} ${t} ${v}\r\n${host}\r\n`),
      // CR/LF, NUL and friends inside a header (an attempt to inject a response header)
      fc
        .tuple(
          freeText,
          fc.constantFrom(
            '\r\nX-Injected: yes',
            '\rX-Injected: yes',
            '\nX-Injected: yes',
            '\u0000',
            '\r\n\r\nGET / HTTP/1.1',
            '\r\n X-Injected: folded',
          ),
        )
        .map(([v, evil]) => `GET /form/ HTTP/1.1\r\n${host}x-note: ${v}${evil}\r\n\r\n`),
      fc.constantFrom(
        // request smuggling shapes
        `POST /users/form/ HTTP/1.1\r\n${host}content-length: 5\r\ncontent-length: 6\r\n\r\nabcdef`,
        `POST /users/form/ HTTP/1.1\r\n${host}transfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n`,
        `POST /users/form/ HTTP/1.1\r\n${host}transfer-encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
        `POST /users/form/ HTTP/1.1\r\n${host}transfer-encoding: chunked\r\n\r\nzz\r\n`,
        `POST /users/form/ HTTP/1.1\r\n${host}content-length: -1\r\n\r\n`,
        `POST /users/form/ HTTP/1.1\r\n${host}content-length: 99999999999999999999\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}${host}\r\n`,
        `GET / HTTP/1.1\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}bad header: x\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}: empty-name\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}x-a\r\n\r\n`,
        `GET / HTTP/1.1\n${host}\n`,
        `GET /task_status/?task_id=${'a'.repeat(20_000)} HTTP/1.1\r\n${host}\r\n`,
        `GET / HTTP/1.1\r\n${host}x-big: ${'b'.repeat(20_000)}\r\n\r\n`,
        `GET / HTTP/1.1\r\n${host}${Array.from({ length: 3000 }, (_, i) => `x-${i}: ${i}\r\n`).join('')}\r\n`,
        `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
        `\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003`, // a TLS ClientHello on a plain port
      ),
      fc.uint8Array({ minLength: 1, maxLength: 1024 }).map((b) => Buffer.from(b).toString('latin1')),
      // a valid request cut short
      fc
        .integer({ min: 1, max: 60 })
        .map((n) => `POST /users/form/ HTTP/1.1\r\n${host}content-type: application/json\r\n`.slice(0, n)),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (text) => {
        tally('malformed HTTP');
        const bytes = Buffer.from(text, 'latin1');
        checkAnswer(await exchange(web.port, bytes, { halfClose: true }), bytes, { allowClosed: true });
      }),
      params(),
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// WebSocket

type OriginKind = 'same' | 'same-upper-scheme' | 'none' | 'evil' | 'null' | 'lookalike' | 'canary';

function originHeader(kind: OriginKind): string | null {
  switch (kind) {
    case 'same':
      return origin;
    case 'same-upper-scheme':
      return origin.replace('http:', 'HTTP:');
    case 'none':
      return null;
    case 'evil':
      return 'https://evil.example';
    case 'null':
      return 'null';
    case 'lookalike':
      return `${origin}.evil.example`;
    case 'canary':
      return `${CANARY}://x`;
  }
}

function frameArb(): fc.Arbitrary<Buffer> {
  const payload = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
  const spec: fc.Arbitrary<FrameSpec> = fc.oneof(
    // plausible frames: messages (ignored by the server), pings, pongs
    fc.record({ opcode: fc.constantFrom(0x1, 0x2, 0x9, 0xa), payload: payload(125) }),
    fc.record({ opcode: fc.constant(0x1), payload: printable(300).map((s) => Buffer.from(s)) }),
    // any header bits at all
    fc.record({
      opcode: fc.integer({ min: 0, max: 15 }),
      fin: fc.boolean(),
      rsv: fc.integer({ min: 0, max: 7 }),
      mask: fc.boolean(),
      payload: payload(300),
      lengthForm: fc.constantFrom('auto' as const, '16' as const, '64' as const),
    }),
    // a declared length over the max payload (4096), up to 2^64-1
    fc.record({
      opcode: fc.integer({ min: 0, max: 15 }),
      length: fc.bigInt({ min: 4097n, max: 2n ** 64n - 1n }),
      lengthForm: fc.constantFrom('auto' as const, '64' as const),
    }),
    // close frames with any code and reason, or a truncated payload
    fc.record({
      opcode: fc.constant(0x8),
      payload: fc.oneof(
        fc.tuple(fc.integer({ min: 0, max: 65535 }), printable(20)).map(([code, reason]) => closePayload(code, reason)),
        payload(1),
      ),
    }),
  );
  return spec.map(encodeFrame);
}

/** A valid handshake on a WebSocket route; resolves with the socket once the server answered 101. */
async function openWs(path: string): Promise<{ socket: Socket; rest: Buffer }> {
  const bytes = buildRequest({
    method: 'GET',
    target: path,
    headers: [
      ['host', `127.0.0.1:${web.port}`],
      ['upgrade', 'websocket'],
      ['connection', 'Upgrade'],
      ['sec-websocket-key', randomBytes(16).toString('base64')],
      ['sec-websocket-version', '13'],
      ['origin', origin],
    ],
  });
  const result = await exchange(web.port, bytes);
  if (result.kind !== 'response' || result.head.status !== 101 || !result.socket) {
    throw new Error(`${path}: no 101 (${result.kind === 'response' ? result.head.raw : result.kind})`);
  }
  result.socket.on('error', () => undefined); // writes after the server hung up fail; that is fine
  return { socket: result.socket, rest: result.body };
}

/** The path as the server routes it ('..' and '%2e%2e' segments resolved), or undefined. */
function routedPath(target: string): string | undefined {
  try {
    return new URL(target, 'http://x').pathname;
  } catch {
    return undefined;
  }
}

function wsRouteArb(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('', '/users'), idArb(), fc.constantFrom('/', ''))
    .map(([prefix, id, slash]) => `${prefix}/ws/task_status/${id}${slash}`)
    .filter((path) => WS_PATH.test(routedPath(path) ?? ''));
}

/** What ws accepts as Sec-WebSocket-Protocol: comma-separated tokens, no duplicates. */
function validProtocols(header: string): boolean {
  const elements = header
    .trim()
    .split(',')
    .map((e) => e.replace(/^[ \t]+|[ \t]+$/g, ''));
  return elements.every((e) => TOKEN.test(e)) && new Set(elements).size === elements.length;
}

describe('WebSocket routes under arbitrary handshakes and frames', () => {
  it('handshakes (bad key or version, no Upgrade, any method, foreign Origin, weird paths): 101 only when valid, else a JSON refusal', async () => {
    const wsPath = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(wsRouteArb(), fc.constantFrom('', '?x=1', `?task_id=${CANARY}`)).map(([p, q]) => `${p}${q}`),
      },
      fc.constantFrom(
        '/ws/task_status/',
        '/ws/task_status//',
        '/ws/',
        '/',
        '/form_ws/',
        '/ws/task_status/a/b/',
        '/users/ws/task_status/',
        '/Users/ws/task_status/x/',
        '*',
        `http://127.0.0.1/ws/task_status/${ids.pending}/`,
        `/ws/task_status/${ids.pending}/%0d%0aX-Injected:%20yes`,
      ),
      pathArb(),
    );
    /** Mostly the valid value, so that a good share of handshakes is valid but for one or two fields. */
    const mostly = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>): fc.Arbitrary<T> =>
      fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: invalid });
    const handshake = fc.record({
      method: mostly(fc.constant('GET'), fc.constantFrom('POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'get')),
      path: wsPath,
      connection: mostly(
        fc.constantFrom<string | null>('Upgrade', 'upgrade', 'keep-alive, Upgrade'),
        fc.constantFrom<string | null>('close', 'keep-alive', null),
      ),
      upgrade: mostly(
        fc.constantFrom<string | null>('websocket', 'WebSocket'),
        fc.constantFrom<string | null>('h2c', 'websocket2', 'websocket, h2c', '', null, CANARY),
      ),
      key: mostly<string | null>(
        wsKey,
        fc.oneof(
          fc.constantFrom<string | null>(
            null,
            '',
            'abc',
            'AAAAAAAAAAAAAAAAAAAAAA',
            '!!!!!!!!!!!!!!!!!!!!!!==',
            'AAAAAAAAAAAAAAAAAAAA',
            'AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          ),
          freeText,
        ),
      ),
      version: mostly(
        fc.constant<string | null>('13'),
        fc.constantFrom<string | null>('8', '12', '0', '', '13, 8', 'abc', '013', null),
      ),
      origin: mostly(
        fc.constantFrom<OriginKind>('same', 'same-upper-scheme', 'none'),
        fc.constantFrom<OriginKind>('evil', 'null', 'lookalike', 'canary'),
      ),
      // A subprotocol the client asks for must never come back as a response header (we speak none).
      protocol: fc.option(
        mostly(
          fc.stringMatching(/^[a-z]{1,10}$/).map((s) => `${CANARY}${s}`),
          fc.oneof(freeText, fc.constantFrom(',,', 'chat, chat', `${CANARY}a, ${CANARY}b`)),
        ),
        { nil: undefined, freq: 2 },
      ),
      extensions: fc.option(
        fc.constantFrom('permessage-deflate', 'permessage-deflate; client_max_window_bits', `${CANARY}x; y`),
        {
          nil: undefined,
        },
      ),
      extra: fc.array(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), freeText), { maxLength: 3 }),
      after: fc.option(frameArb(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(handshake, async (h) => {
        tally('WebSocket handshakes');
        const headers: [string, string][] = [['host', `127.0.0.1:${web.port}`]];
        const add = (name: string, value: string | null | undefined): void => {
          if (value !== null && value !== undefined) headers.push([name, value]);
        };
        add('connection', h.connection);
        add('upgrade', h.upgrade);
        add('sec-websocket-key', h.key);
        add('sec-websocket-version', h.version);
        add('origin', originHeader(h.origin));
        add('sec-websocket-protocol', h.protocol);
        add('sec-websocket-extensions', h.extensions);
        headers.push(...h.extra);
        const bytes = Buffer.concat([buildRequest({ method: h.method, target: h.path, headers }), h.after ?? Buffer.alloc(0)]);
        const result = await exchange(web.port, bytes, { head: h.method === 'HEAD' });
        const head = checkAnswer(result, bytes, { isHead: h.method === 'HEAD' })!;

        const pathname = routedPath(h.path);
        const asksUpgrade =
          h.connection !== null &&
          h.connection
            .toLowerCase()
            .split(/\s*,\s*/)
            .includes('upgrade') &&
          h.upgrade !== null;
        const originOk = h.origin === 'same' || h.origin === 'same-upper-scheme' || h.origin === 'none';
        const protocolOk = h.protocol === undefined || validProtocols(h.protocol);
        const handshakeOk =
          h.method === 'GET' &&
          asksUpgrade &&
          h.upgrade?.toLowerCase() === 'websocket' &&
          h.key !== null &&
          KEY_PATTERN.test(h.key) &&
          h.version === '13' &&
          protocolOk;
        const isWsRoute = pathname !== undefined && WS_PATH.test(pathname);
        const what = describeRequest(bytes);
        if (isWsRoute && handshakeOk && originOk) {
          if (head.status !== 101) throw new Error(`${what}: a valid handshake got ${head.status}\n${head.raw}`);
          if (head.headers['sec-websocket-protocol']) throw new Error(`${what}: a subprotocol was echoed\n${head.raw}`);
        } else if (head.status === 101) {
          throw new Error(`${what}: an invalid or foreign handshake was accepted\n${head.raw}`);
        } else if (isWsRoute && handshakeOk && !originOk && head.status !== 403) {
          throw new Error(`${what}: a foreign Origin got ${head.status}, not 403 before the handshake\n${head.raw}`);
        } else if (isWsRoute && head.status < 400) {
          throw new Error(`${what}: a WebSocket route answered a handshake that cannot succeed with ${head.status}\n${head.raw}`);
        }
      }),
      params(),
    );
  }, 60_000);

  it('arbitrary frames on every WebSocket route: the connection ends cleanly', async () => {
    const run = fc.record({ path: wsRouteArb(), frames: fc.array(frameArb(), { minLength: 1, maxLength: 6 }) });
    await fc.assert(
      fc.asyncProperty(run, async ({ path, frames }) => {
        tally('WebSocket frame sequences');
        const { socket, rest } = await openWs(path);
        socket.write(Buffer.concat([...frames, encodeFrame({ opcode: 0x8, payload: closePayload(1000, 'bye') })]));
        const ending = await readUntilClosed(socket, rest);
        expectAlive();
        if (!ending.closed) throw new Error(`${path}: the server kept the connection after a close frame`);
        if (ending.closeCode !== undefined && !isCleanCloseCode(ending.closeCode)) {
          throw new Error(`${path}: closed with ${ending.closeCode}`);
        }
      }),
      params(),
    );
  }, 60_000);

  it('garbage bytes after the handshake, then a half-close: the connection ends, the server stays up', async () => {
    const run = fc.record({ path: wsRouteArb(), bytes: fc.uint8Array({ minLength: 1, maxLength: 2048 }) });
    await fc.assert(
      fc.asyncProperty(run, async ({ path, bytes }) => {
        tally('garbage after a handshake');
        const { socket, rest } = await openWs(path);
        socket.end(Buffer.from(bytes));
        const ending = await readUntilClosed(socket, rest);
        expectAlive();
        if (!ending.closed) throw new Error(`${path}: the server kept a half-closed connection open`);
      }),
      params(),
    );
  }, 60_000);

  it('after the fuzzing, the server still answers and pushes task state', async () => {
    expectAlive();
    const res = await fetch(`${web.base}/users/task_status/?task_id=${ids.success}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'SUCCESS' });
    const { socket, rest } = await openWs(`/ws/task_status/${ids.pending}/`);
    const ending = readUntilClosed(socket, rest, 1000);
    const { frames } = await ending; // not closed by the server: the task is pending; readUntilClosed drops it
    const first = frames.find((f) => f.opcode === 0x1);
    expect(first && JSON.parse(first.payload.toString('utf8'))).toMatchObject({ state: 'PENDING' });
    expect(ids.pending).toMatch(UUID_V4);
    reportFigures('hostile-input', 'sqlite', { cases, total: Object.values(cases).reduce((a, b) => a + b, 0), serverUp: true });
  });
});
