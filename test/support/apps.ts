import { afterEach } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { createApp, type Errand, type NewTask } from '../../src/index.js';
import type { BrokerTarget } from './brokers.js';

/**
 * What a test file opens, closed after each test, last first. Call once at
 * the top of a file: it registers the afterEach.
 */
export function closeAfterEach(): Array<() => Promise<void>> {
  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
  });
  return opened;
}

/**
 * A memory app whose enqueues are recorded as the broker gets them; with
 * `capable` false its broker has none of the optional capabilities.
 */
export function recordingApp(
  opened: Array<() => Promise<void>>,
  capable = true,
): { app: Errand; sent: NewTask[]; backend: MemoryBackend } {
  const backend = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
  if (!capable) Object.defineProperty(backend, 'capabilities', { value: { crossProcess: false, durable: false } });
  const sent: NewTask[] = [];
  const enqueue = backend.enqueue.bind(backend);
  backend.enqueue = (task) => {
    sent.push(task);
    return enqueue(task);
  };
  const app = createApp({ broker: backend, logger: false });
  opened.push(() => app.close());
  return { app, sent, backend };
}

/** An app on a fresh namespace of the target broker, closed (and its namespace dropped) after the test. */
export function openTargetApp(target: BrokerTarget, label: string, opened: Array<() => Promise<void>>): Errand {
  const url = target.makeUrl(label);
  const app = createApp({ broker: url, logger: false });
  opened.push(async () => {
    await app.close();
    await target.cleanup?.(url);
  });
  return app;
}
