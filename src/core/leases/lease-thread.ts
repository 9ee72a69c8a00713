// The lease thread: renews the worker's leases on its own connection to the
// broker, so a handler that blocks the worker's event loop (image work, a
// big JSON.parse) does not lose them. The thread dies with the process, so a
// dead worker stops renewing; a live one whose loop has not turned for
// stallLimitMs stops too, so a wedged process cannot hold tasks for ever.
// Which deliveries run, and the loop's beat, it reads from shared memory
// (lease-table.ts) at each renewal: the worker sends no message per task.
//
// States: opening (import the broker module, open it) → renewing → stopped.
import { parentPort, workerData } from 'node:worker_threads';
import type { Backend, Delivery } from '../backend.js';
import { LeaseTableReader, type LeaseTableEntry } from './lease-table.js';
import type { FromLeaseThread, LeaseThreadData, ToLeaseThread } from './thread-protocol.js';

const data = workerData as LeaseThreadData;
const port = parentPort!;
/** The worker's running deliveries and its loop's beat, read at each renewal. */
const table = new LeaseTableReader(data.table);
/** Deliveries the table could not hold, posted by the worker instead. */
const posted = new Map<string, Delivery>();
/** Slots reported lost, by generation: not renewed again while the worker frees them. */
const reportedLost = new Map<number, number>();
let stalled = false;
let busy = false;
let stopped = false;
let backend: Backend | undefined;
let timer: NodeJS.Timeout | undefined;

interface Lease {
  delivery: Delivery;
  /** Where the table holds it; none for a posted delivery. */
  entry?: LeaseTableEntry;
}

const send = (message: FromLeaseThread): void => port.postMessage(message);

port.on('message', (message: ToLeaseThread) => {
  switch (message.type) {
    case 'leases':
      for (const id of message.remove) posted.delete(id);
      for (const delivery of message.add) posted.set(delivery.id, delivery);
      return;
    case 'stop':
      void stop();
      return;
  }
});

/** What to renew now: the table's deliveries, then the posted ones it does not hold. */
function currentLeases(): Map<string, Lease> {
  const leases = new Map<string, Lease>();
  const stillLost = new Set<number>();
  for (const entry of table.entries()) {
    if (reportedLost.get(entry.slot) === entry.generation) {
      stillLost.add(entry.slot);
      continue;
    }
    leases.set(entry.delivery.id, { delivery: entry.delivery, entry });
  }
  // a slot written since it was reported holds another delivery now
  for (const slot of reportedLost.keys()) if (!stillLost.has(slot)) reportedLost.delete(slot);
  for (const [id, delivery] of posted) if (!leases.has(id)) leases.set(id, { delivery });
  return leases;
}

async function renew(): Promise<void> {
  if (busy || !backend) return;
  const leases = currentLeases();
  if (leases.size === 0) return;
  const sinceMs = Date.now() - table.lastBeat();
  if (sinceMs > data.stallLimitMs) {
    if (!stalled) send({ type: 'stalled', ids: [...leases.keys()], sinceMs });
    stalled = true;
    return;
  }
  stalled = false;
  busy = true;
  try {
    const lost = await backend.extendLeases(
      [...leases.values()].map((lease) => lease.delivery),
      data.leaseMs,
    );
    for (const id of lost) {
      const entry = leases.get(id)?.entry;
      if (entry) reportedLost.set(entry.slot, entry.generation);
      else posted.delete(id);
    }
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
  posted.clear();
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
