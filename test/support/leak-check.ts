/**
 * Fails a test file that leaves a worker running or a broker connection
 * open (vitest setupFiles: it runs before every test file).
 *
 * Workers, SQLite and Redis backends report open and close through the core
 * hook in src/core/resources.ts; this module installs the tracker. Its
 * afterAll runs after the file's own hooks, gives closes that were started
 * but not awaited a moment to finish, then throws, listing what is still
 * open and the test line that opened it.
 */
import { afterAll } from 'vitest';
import { setResourceTracker } from '../../src/core/resources.js';

interface OpenResource {
  label: string;
  /** The first stack frames in test code: where the test opened it. */
  where: string;
}

/** How long closes still under way (started, not awaited) get before they count as leaks ($LEAK_CHECK_SETTLE_MS). */
const SETTLE_MS = Number(process.env.LEAK_CHECK_SETTLE_MS ?? 3000);

const open = new Map<object, OpenResource>();
/** How many were opened in this file ($LEAK_CHECK_VERBOSE=1 prints it). */
let openedCount = 0;

setResourceTracker({
  opened(resource, label) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    open.set(resource, { label, where: testFrames(stack) });
    openedCount++;
  },
  closed(resource) {
    open.delete(resource);
  },
});

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MS;
  const atEnd = open.size;
  while (open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  if (process.env.LEAK_CHECK_VERBOSE) {
    console.log(`leak check: ${openedCount} opened, ${atEnd} still closing at the end, ${open.size} left open`);
  }
  if (open.size === 0) return;
  const list = [...open.values()].map((r) => `  - ${r.label}\n      opened at ${r.where}`).join('\n');
  const count = open.size;
  open.clear();
  throw new Error(
    `leak check: this test file left ${count} worker(s) or broker connection(s) open:\n${list}\n` +
      'Stop every worker (worker.stop()) and close every app (app.close()) and backend (backend.close()) the file opens, ' +
      'e.g. in afterEach.',
  );
}, SETTLE_MS + 5000);

/** The frames of a stack that are in test/ (not this file, not node_modules), up to three. */
function testFrames(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ''))
    .filter((line) => line.includes('/test/') && !line.includes('/test/support/leak-check') && !line.includes('node_modules'));
  return frames.length > 0 ? frames.slice(0, 3).join('\n         ← ') : '(no test frame in the stack)';
}
