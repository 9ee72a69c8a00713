import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import { BrokerError, ClosedError, type PostgresBackend } from '../../../src/index.js';
import { describePostgres, testClient } from '../../support/postgres.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

type Listening = { listener: { connected: boolean; client?: { query(sql: string): Promise<unknown> } } };

describePostgres('postgres: notifications', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  /** Makes `backend`'s LISTEN connection deaf: every notification from now on is lost to it. */
  async function deafen(backend: PostgresBackend): Promise<void> {
    await (
      await backend.subscribeRevocations(() => {})
    )(); // the LISTEN connection is up
    await (backend as unknown as Listening).listener.client!.query('UNLISTEN *');
  }

  /** Ends the LISTEN connections of `schema` from the server side. */
  async function killListeners(schema: string): Promise<number> {
    const client = await testClient();
    try {
      const { rows } = await client.query(
        'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
        [`errand:listen:${schema}`],
      );
      return rows.length;
    } finally {
      await client.end();
    }
  }

  it('an idle claim is woken by another process’s enqueue at once (the NOTIFY), not by the fallback poll', async () => {
    const schema = pool.newSchema();
    const a = pool.open({ schema, pollIntervalMs: 30_000 });
    const b = pool.open({ schema });
    await a.countWaiting('q');
    const started = Date.now();
    const claiming = a.claim(claimRequest({ waitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 200));
    const task = newTask();
    await b.enqueue(task);
    const claimed = await claiming;
    expect(claimed.map((t) => t.id)).toEqual([task.id]);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a lost NOTIFY: the fallback poll still picks the task up, and status events still arrive', async () => {
    const schema = pool.newSchema();
    const a = pool.open({ schema, pollIntervalMs: 300 });
    const b = pool.open({ schema });
    await deafen(a);
    const claiming = a.claim(claimRequest({ waitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 100));
    const task = newTask();
    const enqueued = Date.now();
    await b.enqueue(task);
    const [claimed] = await claiming;
    expect(claimed?.id).toBe(task.id);
    expect(Date.now() - enqueued).toBeLessThan(1500);

    // and another process's transition reaches a's status listener by the poll
    const heard: TaskInfo[] = [];
    await a.subscribeStatus(task.id, (info) => heard.push(info));
    expect(await b.complete(claimed!, '"done"')).toBe(true);
    const done = await waitFor(() => heard.find((info) => info.state === 'SUCCESS'), 2000, 'SUCCESS through the poll');
    expect(done.result).toBe('done');
  });

  it('a task inserted without any NOTIFY (a raw client) is claimed by the fallback poll', async () => {
    const schema = pool.newSchema();
    const a = pool.open({ schema, pollIntervalMs: 300 });
    await a.countWaiting('q');
    const claiming = a.claim(claimRequest({ waitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 100));
    const client = await testClient();
    try {
      const at = Date.now();
      await client.query(
        `INSERT INTO "${schema}".tasks (id, name, queue, state, version, payload, enqueued_at, run_at)
         VALUES ('raw-1', 'test.task', 'q', 'PENDING', 1, '[]', $1, $1)`,
        [at],
      );
    } finally {
      await client.end();
    }
    const claimed = await claiming;
    expect(claimed.map((t) => t.id)).toEqual(['raw-1']);
  });

  it('the LISTEN connection killed (pg_terminate_backend): it reconnects, re-reads what it missed, and events keep flowing', async () => {
    const schema = pool.newSchema();
    // a poll too slow to matter: whatever arrives within seconds came through LISTEN or the reconnect's re-read
    const a = pool.open({ schema, pollIntervalMs: 60_000 });
    const b = pool.open({ schema, pollIntervalMs: 60_000 });
    const task = newTask();
    await b.enqueue(task);
    const heard: TaskInfo[] = [];
    await a.subscribeStatus(task.id, (info) => heard.push(info));
    const listening = (a as unknown as Listening).listener;
    expect(listening.connected).toBe(true);

    expect(await killListeners(schema)).toBeGreaterThanOrEqual(1);
    // a change while a's LISTEN connection is down: its notification is lost to a
    const [claimed] = await b.claim(claimRequest());
    expect(claimed?.id).toBe(task.id);
    await waitFor(() => heard.find((info) => info.state === 'STARTED'), 5000, 'STARTED after the reconnect');
    await waitFor(() => listening.connected, 5000, 'the LISTEN connection back');

    // and later changes come by NOTIFY again
    await b.recordProgress(claimed!, { current: 1, total: 2 });
    await waitFor(() => heard.find((info) => info.state === 'PROGRESS'), 2000, 'PROGRESS after the reconnect');
    // a waiting claim is woken by a NOTIFY too
    const next = newTask();
    const claiming = a.claim(claimRequest({ waitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 200));
    const enqueued = Date.now();
    await b.enqueue(next);
    expect((await claiming).map((t) => t.id)).toEqual([next.id]);
    expect(Date.now() - enqueued).toBeLessThan(1500);
  });

  it('cannot reach the server: a BrokerError naming host:port and the cause', async () => {
    const backend = pool.open({ url: 'postgres://postgres@127.0.0.1:1/test' });
    const error = (await backend.getInfo('x').catch((e: unknown) => e)) as BrokerError;
    expect(error).toBeInstanceOf(BrokerError);
    expect(error.message).toMatch(/cannot reach 127\.0\.0\.1:1 \(connection refused/);
    await expect(backend.claim(claimRequest())).rejects.toThrow(/cannot reach 127\.0\.0\.1:1/);
  });

  it('a server that was down when the broker opened: later calls migrate and work once it is up', async () => {
    const port = await freePort();
    const backend = pool.open({ url: `postgres://postgres@127.0.0.1:${port}/test` });
    await expect(backend.countWaiting('q')).rejects.toThrow(/cannot reach 127\.0\.0\.1:\d+ \(connection refused/);
    const proxy = await forward(port);
    try {
      expect(await backend.countWaiting('q')).toBe(0);
      const task = newTask();
      await backend.enqueue(task);
      expect((await backend.getInfo(task.id))?.state).toBe('PENDING');
      await backend.close();
    } finally {
      await proxy.close();
    }
  });

  it('after close() every method throws ClosedError, and a waiting claim ends with it', async () => {
    const backend = pool.open();
    await backend.countWaiting('q');
    const waiting = backend.claim(claimRequest({ waitMs: 10_000 })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await backend.close();
    expect(await waiting).toBeInstanceOf(ClosedError);
    await expect(backend.enqueue(newTask())).rejects.toBeInstanceOf(ClosedError);
    await expect(backend.getInfo('x')).rejects.toBeInstanceOf(ClosedError);
    await expect(backend.subscribeStatus('x', () => {})).rejects.toBeInstanceOf(ClosedError);
    await expect(backend.prune()).rejects.toBeInstanceOf(ClosedError);
    await backend.close(); // twice is fine
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP proxy on `port` to the test PostgreSQL. */
async function forward(port: number): Promise<{ close(): Promise<void> }> {
  const target = new URL(process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
