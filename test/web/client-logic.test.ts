import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskWatchError, type StatusMessage, type TransportName } from '../../src/client/index.js';
import { SseParser, type SseMessage } from '../../src/client/sse-parser.js';
import type { StartTransport, TransportContext } from '../../src/client/transport.js';
import { endpoints } from '../../src/client/urls.js';
import { watchTaskWith, type WatchDependencies } from '../../src/client/watch-task.js';

const msg = (version: number, state: StatusMessage['state'] = 'PROGRESS'): StatusMessage => ({ state, version });

/** Fake transports the test drives through their contexts; timers run on the next tick. */
function fakes() {
  const started: Array<{ name: TransportName; url: string; context: TransportContext; closed: boolean }> = [];
  const make =
    (name: TransportName): StartTransport =>
    (url, context) => {
      const entry = { name, url, context, closed: false };
      started.push(entry);
      return { close: () => void (entry.closed = true) };
    };
  const deps: WatchDependencies = {
    transports: { ws: make('ws'), sse: make('sse'), poll: make('poll') },
    setTimeout: (fn) => setTimeout(fn, 0),
    clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
  };
  const last = () => started.at(-1)!;
  const tick = () => new Promise((r) => setTimeout(r, 5));
  return { deps, started, last, tick };
}

describe('watchTask logic (fake transports)', () => {
  it('passes each version once and in order, and resolves with the terminal status', async () => {
    const { deps, last } = fakes();
    const seen: number[] = [];
    const watch = watchTaskWith('t', { onUpdate: (s) => seen.push(s.version) }, deps);
    const ctx = last().context;
    ctx.onOpen();
    for (const v of [1, 1, 3, 2]) ctx.onStatus(msg(v));
    ctx.onStatus(msg(4, 'SUCCESS'));
    ctx.onStatus(msg(5));
    await expect(watch.done).resolves.toEqual({ state: 'SUCCESS', version: 4 });
    expect(seen).toEqual([1, 3, 4]);
    expect(last().closed).toBe(true);
  });

  it('falls back ws → sse → poll when a transport cannot connect', async () => {
    const { deps, started, last, tick } = fakes();
    const watch = watchTaskWith('t', { onUpdate: () => {}, baseUrl: 'http://h/users' }, deps);
    last().context.onEnd({ kind: 'lost' });
    await tick();
    last().context.onEnd({ kind: 'lost' });
    await tick();
    expect(started.map((s) => s.name)).toEqual(['ws', 'sse', 'poll']);
    expect(started.map((s) => s.url)).toEqual([
      'ws://h/users/ws/task_status/t/',
      'http://h/users/tasks/t/events',
      'http://h/users/task_status/?task_id=t',
    ]);
    last().context.onOpen();
    last().context.onStatus(msg(2, 'FAILURE'));
    await expect(watch.done).resolves.toMatchObject({ state: 'FAILURE' });
  });

  it('reconnects a transport that worked, resuming from the last version it saw', async () => {
    const { deps, started, last, tick } = fakes();
    const seen: number[] = [];
    const watch = watchTaskWith('t', { transport: 'sse', onUpdate: (s) => seen.push(s.version) }, deps);
    let ctx = last().context;
    ctx.onOpen();
    ctx.onStatus(msg(1, 'PENDING'));
    ctx.onStatus(msg(2, 'STARTED'));
    ctx.onEnd({ kind: 'lost' });
    await tick();
    expect(started.map((s) => s.name)).toEqual(['sse', 'sse']);
    ctx = last().context;
    expect(ctx.lastVersion()).toBe(2);
    ctx.onOpen();
    ctx.onStatus(msg(2, 'STARTED')); // the server repeats what we have: ignored
    ctx.onStatus(msg(3, 'SUCCESS'));
    await watch.done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('gives up a transport that once worked after repeated failed connects', async () => {
    const { deps, started, last, tick } = fakes();
    const watch = watchTaskWith('t', { onUpdate: () => {} }, deps);
    last().context.onOpen();
    last().context.onEnd({ kind: 'lost' });
    for (let i = 0; i < 3; i++) {
      await tick();
      last().context.onEnd({ kind: 'lost' });
    }
    await tick();
    expect(started.map((s) => s.name)).toEqual(['ws', 'ws', 'ws', 'ws', 'sse']);
    watch.close();
  });

  it('rejects with not_found without retrying, and with closed on close() or abort', async () => {
    const { deps, started, last, tick } = fakes();
    const missing = watchTaskWith('t', { onUpdate: () => {} }, deps);
    last().context.onEnd({ kind: 'not_found', message: 'no task' });
    await expect(missing.done).rejects.toMatchObject({ code: 'not_found' });
    await tick();
    expect(started).toHaveLength(1);

    const closed = watchTaskWith('t', { onUpdate: () => {} }, deps);
    closed.close();
    await expect(closed.done).rejects.toBeInstanceOf(TaskWatchError);
    expect(last().closed).toBe(true);

    const controller = new AbortController();
    const aborted = watchTaskWith('t', { onUpdate: () => {}, signal: controller.signal }, deps);
    controller.abort();
    await expect(aborted.done).rejects.toMatchObject({ code: 'closed' });
  });

  it('keeps watching when onUpdate throws', async () => {
    const { deps, last } = fakes();
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const watch = watchTaskWith(
        't',
        {
          onUpdate: () => {
            throw new Error('ui bug');
          },
        },
        deps,
      );
      last().context.onStatus(msg(1));
      last().context.onStatus(msg(2, 'SUCCESS'));
      await expect(watch.done).resolves.toMatchObject({ version: 2 });
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toHaveLength(2);
  });
});

describe('client pieces', () => {
  it('parses SSE split across chunks, with CRLF, comments and multi-line data', () => {
    const out: SseMessage[] = [];
    const parser = new SseParser((m) => out.push(m));
    for (const chunk of ['retry: 2000\r', '\n\r\n: heartbeat\n\nid: 3\nda', 'ta: {"a":\ndata: 1}\n', '\nevent: x\ndata: y\n\n'])
      parser.push(chunk);
    expect(out).toEqual([
      { id: '3', event: 'message', data: '{"a":\n1}' },
      { id: '3', event: 'x', data: 'y' },
    ]);
  });

  it('builds endpoint URLs from a path prefix and the page location', () => {
    const g = globalThis as { location?: unknown };
    g.location = { protocol: 'https:', host: 'example.com' };
    try {
      const urls = endpoints('/users');
      expect(urls.poll('a b')).toBe('/users/task_status/?task_id=a%20b');
      expect(urls.sse('x')).toBe('/users/tasks/x/events');
      expect(urls.ws('x')).toBe('wss://example.com/users/ws/task_status/x/');
      expect(endpoints().ws('x')).toBe('wss://example.com/ws/task_status/x/');
    } finally {
      delete g.location;
    }
  });

  it('imports nothing outside src/client (it is bundled for the browser)', () => {
    const dir = new URL('../../src/client/', import.meta.url);
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const specifier of specifiers) expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[a-z-]+\.js$/);
    }
  });
});
