import { afterEach, expect, it } from 'vitest';
import type { TagFeedEntry } from '../../../src/index.js';
import { describePostgres } from '../../support/postgres.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

describePostgres('postgres: events across processes', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  it('tag listeners of a third process hear the changes of two busy writers in cursor order, as the feed reads them', async () => {
    const schema = pool.newSchema();
    const writers = [pool.open({ schema }), pool.open({ schema })];
    const reader = pool.open({ schema });
    const heard: TagFeedEntry[] = [];
    await reader.subscribeTag('busy', (entry) => heard.push(entry));
    const perWriter = 150;
    await Promise.all(
      writers.map(async (writer, w) => {
        const tasks = Array.from({ length: perWriter }, (_, i) => newTask({ queue: `q${w}`, tags: ['busy'], payload: `[${i}]` }));
        // single enqueues, many in flight: several transactions per writer race each other
        await Promise.all(tasks.map((task) => writer.enqueue(task)));
        for (;;) {
          const claimed = await writer.claim(claimRequest({ queues: [`q${w}`], limit: 7, workerId: `w${w}` }));
          if (claimed.length === 0) break;
          await Promise.all(claimed.map((task) => writer.complete(task, '1')));
        }
      }),
    );
    // every task: PENDING, STARTED, SUCCESS
    await waitFor(() => heard.length >= 2 * perWriter * 3, 10_000, 'every change');
    const cursors = heard.map((entry) => entry.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);
    // the last change of each task, at the cursor the feed reads
    const last = new Map<string, TagFeedEntry>();
    for (const entry of heard) last.set(entry.info.id, entry);
    const page = await reader.readTagFeed('busy', 0, 10_000);
    expect(page.entries.length).toBe(2 * perWriter);
    for (const entry of page.entries) {
      expect(entry.info.state).toBe('SUCCESS');
      expect(last.get(entry.info.id)?.cursor).toBe(entry.cursor);
    }
  });

  it('close() leaves no socket or timer behind', async () => {
    const count = (kind: string) => process.getActiveResourcesInfo().filter((name) => name === kind).length;
    const sockets = count('TCPSocketWrap');
    const timers = count('Timeout');
    const backend = pool.open();
    const task = newTask();
    await backend.enqueue(task);
    await backend.subscribeStatus(task.id, () => {});
    const [claimed] = await backend.claim(claimRequest({ waitMs: 100 }));
    await backend.complete(claimed!, '1');
    await backend.claim(claimRequest({ waitMs: 50 }));
    expect(count('TCPSocketWrap')).toBeGreaterThan(sockets);
    await backend.close();
    await waitFor(() => count('TCPSocketWrap') <= sockets, 2000, 'the sockets closed');
    expect(count('Timeout')).toBeLessThanOrEqual(timers);
  });
});
