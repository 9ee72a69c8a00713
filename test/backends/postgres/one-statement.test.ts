import { afterEach, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import type { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { describePostgres } from '../../support/postgres.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

/** The statements a backend sends through its command pool, by their first words. */
function countStatements(backend: PostgresBackend): string[] {
  const sent: string[] = [];
  const pool = (backend as unknown as { pool: { query: (...args: unknown[]) => unknown } }).pool;
  const query = pool.query.bind(pool);
  pool.query = (...args: unknown[]) => {
    const first = args[0] as string | { text: string };
    sent.push((typeof first === 'string' ? first : first.text).replace(/\s+/g, ' ').trim().slice(0, 40));
    return query(...args);
  };
  return sent;
}

describePostgres('postgres: one-statement writes', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  it('another process hears every transition with the TaskInfo the writer delivered in-process', async () => {
    const schema = pool.newSchema();
    const writer = pool.open({ schema });
    const watcher = pool.open({ schema });
    const task = newTask({ tags: ['t1', 'x"y'] });
    const own: TaskInfo[] = [];
    const heard: TaskInfo[] = [];
    await writer.subscribeStatus(task.id, (info) => own.push(info));
    await watcher.subscribeStatus(task.id, (info) => heard.push(info));
    await writer.enqueue(task);
    let [claimed] = await writer.claim(claimRequest());
    await writer.recordProgress(claimed!, { current: 1, total: 2, meta: { note: 'half' } });
    await writer.retryLater(claimed!, { type: 'Boom', message: 'again' }, Date.now());
    [claimed] = await writer.claim(claimRequest());
    await writer.complete(claimed!, '{"ok":[1,2]}');
    await waitFor(() => heard.at(-1)?.state === 'SUCCESS', 5000, 'SUCCESS');
    // a tagged task's enqueue is an event too (its tag feeds' change)
    expect(heard.map((info) => info.state)).toEqual(['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'STARTED', 'SUCCESS']);
    expect(heard).toEqual(own);
    expect(heard.at(-1)).toEqual(await writer.getInfo(task.id));
  });

  it('a claim and a completion are one statement each, and a backend does not read back its own events', async () => {
    const schema = pool.newSchema();
    const writer = pool.open({ schema });
    const other = pool.open({ schema });
    const heard: string[] = [];
    await writer.subscribeRevocations((id) => heard.push(id));
    const tasks = [newTask(), newTask(), newTask()];
    for (const task of tasks) await writer.enqueue(task);
    const sent = countStatements(writer);
    for (let i = 0; i < tasks.length; i++) {
      const [claimed] = await writer.claim(claimRequest({ limit: 1 }));
      expect(await writer.complete(claimed!, '1')).toBe(true);
    }
    await writer.enqueue(newTask());
    await new Promise((resolve) => setTimeout(resolve, 200));
    // claim, complete, claim, complete, …, enqueue: one statement each; no read of the events it wrote itself
    expect(sent).toHaveLength(2 * tasks.length + 1);
    expect(sent.some((text) => text.startsWith('SELECT seq, task_id'))).toBe(false);
    // another process's change is still read, and its revocation heard
    const [running] = await writer.claim(claimRequest({ limit: 1 }));
    await other.revoke(running!.id);
    await waitFor(() => heard.includes(running!.id), 5000, 'the revocation');
    expect(sent.some((text) => text.startsWith('SELECT seq, task_id'))).toBe(true);
  });
});
