// The dashboard page: panels filled from the live stream; actions as CSRF-protected POSTs.
import { act, config, post } from './api.js';
import { Charts } from './charts.js';
import { showDetail } from './detail.js';
import { byId } from './dom.js';
import { Live } from './live.js';
import { showActions, showDeadLetters, showOverview, showSchedules, showWorkers, type Run } from './panels.js';
import { showTasks } from './tasks.js';
import type { TaskPage, Worker } from './types.js';

const FILTERS = ['state', 'name', 'queue'] as const;
const initial = new URLSearchParams(location.search);
const filter: Record<(typeof FILTERS)[number], string> = { state: '', name: '', queue: '' };
for (const key of FILTERS) filter[key] = initial.get(key) ?? '';
let selected = initial.get('task') ?? undefined;
/** The cursors of the pages before this one (the last is this page's). */
let cursors: string[] = [];
let lastPage: TaskPage = { tasks: [] };
let lastWorkers: Worker[] = [];

const run: Run = (action, body, confirmText) => {
  if (confirmText !== undefined && !window.confirm(confirmText)) return;
  void act(action, body).then((ok) => ok && live.refresh());
};

const charts = new Charts(
  byId<HTMLCanvasElement>('throughput-chart'),
  byId<HTMLCanvasElement>('failure-chart'),
  byId<HTMLCanvasElement>('depth-chart'),
);
const live = new Live({
  overview: (o: Parameters<typeof showOverview>[0]) => showOverview(o, run),
  workers: (w: Worker[]) => showWorkers((lastWorkers = w), openTask),
  tasks: (page: TaskPage) => showTasks((lastPage = page), selected, run, openTask),
  task: (d: Parameters<typeof showDetail>[0]) => showDetail(d, run),
  deadLetters: (d: Parameters<typeof showDeadLetters>[0]) => showDeadLetters(d, run),
  schedules: showSchedules,
  actions: showActions,
  history: (h: Parameters<Charts['show']>[0]) => charts.show(h),
});

function reconnect(): void {
  const params = new URLSearchParams();
  for (const key of FILTERS) if (filter[key]) params.set(key, filter[key]);
  if (selected) params.set('task', selected);
  history.replaceState(null, '', `?${params.toString()}`);
  const cursor = cursors[cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  byId('task-detail').hidden = selected === undefined;
  live.connect(params);
}

function openTask(id: string): void {
  selected = id;
  reconnect();
  byId('task-detail').scrollIntoView({ block: 'nearest' });
}

const form = byId<HTMLFormElement>('task-filter');
for (const key of FILTERS) byId<HTMLInputElement>(`filter-${key}`).value = filter[key];
form.addEventListener('submit', (e) => {
  e.preventDefault();
  for (const key of FILTERS) filter[key] = byId<HTMLInputElement>(`filter-${key}`).value.trim();
  cursors = [];
  reconnect();
});
byId('next-page').addEventListener('click', () => {
  if (lastPage.next === undefined) return;
  cursors.push(lastPage.next);
  reconnect();
});
byId('first-page').addEventListener('click', () => {
  cursors = [];
  reconnect();
});

if (config.canWrite) {
  byId('retry-failed').addEventListener('click', () => {
    const chosen = { state: 'FAILURE', name: filter.name, queue: filter.queue };
    run('retry', { filter: chosen }, 'Retry every FAILURE task that matches the name and queue filter?');
  });
  byId('retry-all-dead').addEventListener('click', () => run('retry-dead-letters', { all: true }, 'Retry every dead letter?'));
  byId('drop-all-dead').addEventListener('click', () => run('drop-dead-letters', { all: true }, 'Delete every dead letter?'));
} else {
  // read-only: no action buttons at all (the server refuses their POSTs anyway)
  for (const node of document.querySelectorAll('[data-write]')) node.remove();
}

document.getElementById('logout')?.addEventListener('click', () => {
  void post('logout', {}).then(() => location.assign(`${config.base}/login`));
});

// heartbeat ages move on between events
setInterval(() => showWorkers(lastWorkers, openTask), 5000);
reconnect();
