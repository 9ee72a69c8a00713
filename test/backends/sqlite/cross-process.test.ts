import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/core/types.js';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { delay, waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

const FIXTURE = 'test/fixtures/sqlite/backend-child.ts';
const pool = new BackendPool();
const children: Child[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) await stopChild(child);
  await pool.cleanup();
});

async function child(filename: string, mode: string, env: Record<string, string> = {}): Promise<Child> {
  const started = await startChild(FIXTURE, { SQLITE_FILE: filename, MODE: mode, ...env });
  children.push(started);
  return started;
}

async function finished(c: Child): Promise<string> {
  expect(await c.exited).toBe(0);
  return c.output();
}

describe('sqlite backend across processes', () => {
  it("status subscribers and revocation listeners hear another process's transitions", async () => {
    const filename = pool.newFile();
    const backend = pool.open({ filename });
    const taskId = randomUUID();
    const statuses: TaskInfo[] = [];
    const heard: string[] = [];
    await backend.subscribeStatus(taskId, (info) => statuses.push(info));
    await backend.subscribeRevocations((id) => heard.push(id));
    // a task running here, which the other process will revoke
    const mine = newTask();
    await backend.enqueue(mine);
    const [running] = await backend.claim(claimRequest());

    const other = await child(filename, 'lifecycle', { TASK_ID: taskId, REVOKE_ID: mine.id });
    expect(await finished(other)).toContain('done');
    await waitFor(() => statuses.length === 3 && heard.length === 1, 5_000, 'events from the child');
    expect(statuses.map((s) => [s.state, s.version])).toEqual([
      ['STARTED', 2],
      ['PROGRESS', 3],
      ['SUCCESS', 4],
    ]);
    expect(statuses[1]!.progress).toEqual({ current: 1, total: 2 });
    expect(statuses[2]).toMatchObject({ id: taskId, name: 'child.task', queue: 'child', result: { n: 42 }, attempts: 1 });
    expect(heard).toEqual([mine.id]);
    expect(await backend.complete(running!, '1')).toBe(false);
  });

  it('two processes draining one file claim every task exactly once', async () => {
    const filename = pool.newFile();
    const backend = pool.open({ filename });
    const tasks = Array.from({ length: 2_000 }, () => newTask());
    await backend.enqueueMany(tasks);
    const a = await child(filename, 'drain');
    const b = await child(filename, 'drain');
    writeFileSync(`${filename}.go`, '');
    const claimedBy = await Promise.all(
      [a, b].map(async (c) => {
        const line = (await finished(c)).split('\n').find((l) => l.startsWith('ids '))!;
        return JSON.parse(line.slice(4)) as string[];
      }),
    );
    const all = claimedBy.flat();
    expect(all).toHaveLength(tasks.length);
    expect(new Set(all)).toEqual(new Set(tasks.map((t) => t.id)));
    // both really competed for the same rows
    expect(claimedBy[0]!.length).toBeGreaterThan(0);
    expect(claimedBy[1]!.length).toBeGreaterThan(0);
    const infos = await Promise.all(tasks.slice(0, 50).map((t) => backend.getInfo(t.id)));
    expect(infos.every((i) => i?.state === 'SUCCESS' && i.attempts === 1)).toBe(true);
  });

  it('a claim waiting in another process is woken promptly by an enqueue here', async () => {
    const filename = pool.newFile();
    const backend = pool.open({ filename });
    const waiter = await child(filename, 'wait-claim');
    await delay(100); // let it settle into its wait
    const task = newTask();
    await backend.enqueue(task);
    const enqueuedAt = Date.now();
    const line = (await finished(waiter)).split('\n').find((l) => l.startsWith('claimed '))!;
    const [, id, at] = line.split(' ');
    expect(id).toBe(task.id);
    // the child waits up to 15 s: only the change check can wake it this soon (~10 ms typical)
    expect(Number(at) - enqueuedAt).toBeLessThan(1_000);
  });
});
