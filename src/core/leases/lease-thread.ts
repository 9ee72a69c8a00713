// The lease thread: renews the worker's leases on its own connection to the
// broker, so a handler that blocks the worker's event loop (image work, a
// big JSON.parse) does not lose them. The thread dies with the process, so a
// dead worker stops renewing; a live one whose loop has not turned for
// stallLimitMs stops too, so a wedged process cannot hold tasks for ever.
//
// States: opening (import the broker module, open it) → renewing → stopped.
import { parentPort, workerData } from 'node:worker_threads';
import type { Backend, Delivery } from '../backend.js';
import type { FromLeaseThread, LeaseThreadData, ToLeaseThread } from './thread-protocol.js';

const data = workerData as LeaseThreadData;
const port = parentPort!;
const tasks = new Map<string, Delivery>();
let lastBeat = Date.now();
let stalled = false;
let busy = false;
let stopped = false;
let backend: Backend | undefined;
let timer: NodeJS.Timeout | undefined;

const send = (message: FromLeaseThread): void => port.postMessage(message);

port.on('message', (message: ToLeaseThread) => {
  switch (message.type) {
    case 'leases':
      for (const id of message.remove) tasks.delete(id);
      for (const delivery of message.add) tasks.set(delivery.id, delivery);
      return;
    case 'beat':
      lastBeat = Date.now();
      stalled = false;
      return;
    case 'stop':
      void stop();
      return;
  }
});

async function renew(): Promise<void> {
  if (busy || !backend || tasks.size === 0) return;
  const sinceMs = Date.now() - lastBeat;
  if (sinceMs > data.stallLimitMs) {
    if (!stalled) send({ type: 'stalled', ids: [...tasks.keys()], sinceMs });
    stalled = true;
    return;
  }
  busy = true;
  try {
    const lost = await backend.extendLeases([...tasks.values()], data.leaseMs);
    for (const id of lost) tasks.delete(id);
    if (lost.length > 0) send({ type: 'lost', ids: lost });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  } finally {
    busy = false;
  }
}

async function stop(): Promise<void> {
  stopped = true;
  clearInterval(timer);
  tasks.clear();
  await backend?.close().catch(() => {});
  send({ type: 'stopped' });
  port.close();
}

try {
  const module = (await import(data.spec.module)) as { openBackend(options: unknown): Backend };
  // Told to stop while the module loaded: open nothing, so the thread can end.
  if (!stopped) {
    backend = module.openBackend(data.spec.options);
    timer = setInterval(() => void renew(), data.intervalMs);
    send({ type: 'ready' });
  }
} catch (error) {
  send({
    type: 'error',
    message: `lease thread could not open the broker: ${error instanceof Error ? error.message : String(error)}`,
  });
  port.close();
}
