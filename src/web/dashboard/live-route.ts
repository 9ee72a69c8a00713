import { InvalidArgumentError } from '../../core/errors.js';
import type { HttpRoute } from '../core/route-table.js';
import type { SseWriter } from '../core/web-response.js';
import { guarded, queryParam, type DashboardContext } from './context.js';
import { panelReaders, taskDetail, taskList, taskQueryOf } from './panels.js';

const RETRY_MS = 2000;

/**
 * GET {base}/api/live?state=&name=&queue=&cursor=&task= — the dashboard
 * over Server-Sent Events. Every refreshMs it reads each panel through
 * app.admin and sends the ones that changed since the last event, as
 * `event: <panel>` (overview, workers, tasks, task, deadLetters, schedules,
 * actions, history). The page closes it while hidden.
 */
export function liveRoute(context: DashboardContext): HttpRoute {
  return {
    methods: ['GET'],
    path: '/dashboard/api/live',
    handle: guarded(context, async (request) => {
      // Parsed before the stream starts, so a bad filter is a 400 naming the field.
      const query = taskQueryOf(request);
      const taskId = queryParam(request, 'task');
      if (taskId !== undefined && taskId.length > 200) throw new InvalidArgumentError('task', 'must be a task id');
      const readers: Record<string, () => Promise<unknown>> = {
        ...panelReaders(context.app),
        [`tasks ${JSON.stringify(query)}`]: () => taskList(context.app, query),
      };
      if (taskId !== undefined)
        readers[`task ${taskId}`] = async () => (await taskDetail(context.app, taskId)) ?? { missing: taskId };
      return {
        status: 200,
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform, private',
          'x-accel-buffering': 'no',
        },
        stream: (writer) => runStream(context, readers, writer),
      };
    }),
  };
}

async function runStream(
  context: DashboardContext,
  readers: Record<string, () => Promise<unknown>>,
  writer: SseWriter,
): Promise<void> {
  let wake: (() => void) | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    wake?.();
  };
  const forget = context.sessions.add(() => {
    stop();
    writer.end();
  });
  writer.onClose(stop);
  const sent = new Map<string, string>();
  let lastWrite = Date.now();
  writer.write(`retry: ${RETRY_MS}\n\n`);
  try {
    while (!stopped && !writer.closed) {
      const events = await Promise.all(
        Object.entries(readers).map(async ([key, read]) => {
          const name = key.split(' ', 1)[0]!;
          return [name, await context.panels.read(key, () => readPanel(context, name, read))] as const;
        }),
      );
      for (const [name, json] of events) {
        if (json === undefined || sent.get(name) === json) continue;
        sent.set(name, json);
        writer.write(`event: ${name}\ndata: ${json}\n\n`);
        lastWrite = Date.now();
      }
      if (Date.now() - lastWrite >= context.heartbeatMs) {
        writer.write(': heartbeat\n\n');
        lastWrite = Date.now();
      }
      if (writer.backedUp) await writer.drained();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, context.options.refreshMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    forget();
    writer.end();
  }
}

/** A panel's JSON, or undefined when it could not be read this time (logged; the next tick tries again). */
async function readPanel(context: DashboardContext, name: string, read: () => Promise<unknown>): Promise<string | undefined> {
  try {
    return JSON.stringify(await read());
  } catch (error) {
    context.log(error, `errand: the dashboard could not read ${name}`);
    return undefined;
  }
}
