import { afterEach, describe, expect, it } from 'vitest';
import { Errand, MemoryBackend, TaskNotFoundError, ClosedError } from '../../src/index.js';
import { StatusHub, type StatusEvent, type StatusSubscription } from '../../src/status/index.js';
import { delay, waitFor } from '../support/wait.js';
import { countSubscriptions, FakeStatusBackend, info } from './fake-backend.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function memoryApp() {
  const inner = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
  const counted = countSubscriptions(inner);
  const app = new Errand(counted.backend, { ownsBackend: false });
  const steps = app.task('hub.steps', async (ctx, n: number) => {
    for (let i = 1; i <= n; i++) {
      await ctx.progress(i, n);
      await delay(2);
    }
    return 'done';
  });
  const hub = new StatusHub(counted.backend);
  cleanups.push(async () => {
    await hub.close();
    await app.close();
    await inner.close();
  });
  const startWorker = async () => {
    const worker = app.worker({ handleSignals: false, claimWaitMs: 50 });
    await worker.start();
    cleanups.push(() => worker.stop());
  };
  return { app, steps, hub, counted, startWorker };
}

async function drain(subscription: StatusSubscription): Promise<StatusEvent[]> {
  const seen: StatusEvent[] = [];
  for await (const event of subscription) seen.push(event);
  return seen;
}

describe('StatusHub', () => {
  it('serves 10,000 subscribers of one task from ONE backend subscription, each ending with the terminal state', async () => {
    const { steps, hub, counted, startWorker } = memoryApp();
    const r = await steps.delay(5);
    const subscriptions = await Promise.all(Array.from({ length: 10_000 }, () => hub.subscribe(r.id)));
    expect(counted.total()).toBe(1);
    expect(hub.subscriberCount(r.id)).toBe(10_000);
    const reading = subscriptions.map(drain);
    await startWorker();
    const results = await Promise.all(reading);
    for (const seen of results) {
      expect(seen[0]!.info.state).toBe('PENDING');
      expect(seen.at(-1)!.message).toEqual({
        state: 'SUCCESS',
        version: seen.at(-1)!.version,
        result: 'done',
        progress: { current: 5, total: 5 },
      });
    }
    // The JSON is built once per version, not once per subscriber.
    expect(results[0]!.at(-1)!.json).toBe(results[9_999]!.at(-1)!.json);
    await waitFor(() => counted.active() === 0, 2000, 'the backend subscription to be released');
    expect(hub.size).toBe(0);
  });

  it('a slow subscriber skips to the latest version and still gets the terminal one', async () => {
    const { steps, hub, startWorker } = memoryApp();
    const r = await steps.delay(30);
    const slow = await hub.subscribe(r.id);
    const fast = drain(await hub.subscribe(r.id));
    await startWorker();
    await r.get({ timeout: 5000 });
    const slowSeen = await drain(slow); // read only now: the mailbox holds just the newest version
    expect(slowSeen.map((e) => e.info.state)).toEqual(['SUCCESS']);
    expect((await fast).length).toBeGreaterThan(3);
  });

  it('delivers versions in increasing order, dropping older and duplicate ones', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    cleanups.push(() => hub.close());
    const subscription = await hub.subscribe('t1');
    const versions: number[] = [];
    const reading = (async () => {
      for await (const event of subscription) versions.push(event.version);
    })();
    for (const v of [3, 2, 3, 5, 4]) {
      fake.push(info(v));
      await delay(1);
    }
    fake.push(info(6, 'SUCCESS'));
    fake.push(info(7, 'PROGRESS')); // nothing after the terminal state reaches a reader
    await reading;
    expect(versions).toEqual([1, 3, 5, 6]);
  });

  it('subscribes before reading the snapshot, so an update in between is not missed', async () => {
    const fake = new FakeStatusBackend();
    fake.beforeSnapshot = () => fake.push(info(2, 'SUCCESS'));
    const hub = new StatusHub(fake.asBackend());
    cleanups.push(() => hub.close());
    const seen = await drain(await hub.subscribe('t1'));
    expect(seen.map((e) => [e.version, e.info.state])).toEqual([[2, 'SUCCESS']]);
  });

  it('throws TaskNotFoundError for an unknown id and releases the backend subscription', async () => {
    const fake = new FakeStatusBackend();
    fake.snapshot = null;
    const hub = new StatusHub(fake.asBackend());
    cleanups.push(() => hub.close());
    await expect(hub.subscribe('t1')).rejects.toBeInstanceOf(TaskNotFoundError);
    await waitFor(() => fake.active === 0, 1000, 'unsubscribe');
    expect(hub.size).toBe(0);
  });

  it('shares one subscription among concurrent subscribers and releases it after the last one leaves', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    cleanups.push(() => hub.close());
    const [a, b] = await Promise.all([hub.subscribe('t1'), hub.subscribe('t1')]);
    expect(fake.subscriptions).toBe(1);
    a!.close();
    expect(fake.active).toBe(1);
    b!.close();
    await waitFor(() => fake.active === 0, 1000, 'unsubscribe');
  });

  it('a late subscriber gets the final state, and resuming past it yields nothing', async () => {
    const fake = new FakeStatusBackend();
    fake.snapshot = info(4, 'FAILURE', { error: { type: 'Error', message: 'boom' } });
    const hub = new StatusHub(fake.asBackend());
    cleanups.push(() => hub.close());
    const seen = await drain(await hub.subscribe('t1'));
    expect(seen.map((e) => e.message)).toEqual([{ state: 'FAILURE', version: 4, error: 'boom', errorType: 'Error' }]);
    const resumed = await hub.subscribe('t1', { afterVersion: 4 });
    expect(resumed.endReason).toBe('terminal');
    expect(await drain(resumed)).toEqual([]);
    // a settled feed holds no backend subscription
    await waitFor(() => fake.active === 0, 1000, 'unsubscribe');
  });

  it('re-reads the snapshot periodically, in case a push was lost', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend(), { resyncMs: 30 });
    cleanups.push(() => hub.close());
    const subscription = await hub.subscribe('t1');
    const reading = drain(subscription);
    fake.snapshot = info(5, 'SUCCESS'); // changed without a push
    const seen = await reading;
    expect(seen.map((e) => e.version)).toEqual([1, 5]);
  });

  it('ends subscribers with "gone" when the task disappears, and with "closed" when the hub closes', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend(), { resyncMs: 30 });
    const gone = await hub.subscribe('t1');
    await gone.next();
    fake.snapshot = null;
    expect(await gone.next()).toBeNull();
    expect(gone.endReason).toBe('gone');

    fake.snapshot = info(1, 'PENDING');
    const open = await hub.subscribe('t1');
    await open.next();
    const waiting = open.next();
    await hub.close();
    expect(await waiting).toBeNull();
    expect(open.endReason).toBe('closed');
    expect(fake.active).toBe(0);
    await expect(hub.subscribe('t1')).rejects.toBeInstanceOf(ClosedError);
  });
});
