import { config } from './api.js';
import { age, button, byId, el, fillTable, time } from './dom.js';
import type { ActionEntry, DeadLetterRow, Overview, Schedule, Worker } from './types.js';

/** Runs an action (through the server's app.admin) and refreshes the panels. */
export type Run = (action: string, body: unknown, confirmText?: string) => void;

/** Task counts by state, and per queue: ready, scheduled, running, paused, with pause/resume/purge. */
export function showOverview(overview: Overview, run: Run): void {
  byId('states').replaceChildren(
    ...Object.entries(overview.states).map(([state, n]) =>
      el('span', { class: `state state-${state}`, 'data-state': state }, `${state} ${n}`),
    ),
  );
  const headers = ['Queue', 'Ready', 'Scheduled', 'Running', 'Oldest ready', 'Status'];
  if (config.canWrite) headers.push('');
  fillTable(
    byId('queues'),
    headers,
    overview.queues.map((q) => {
      const cells: Array<Node | string | number> = [
        q.queue,
        q.ready,
        q.scheduled,
        q.running,
        q.oldestReadyAt === undefined ? '' : `${age(q.oldestReadyAt)} ago`,
        q.paused ? 'paused' : 'active',
      ];
      if (config.canWrite) {
        cells.push(
          el(
            'td',
            { class: 'row-actions' },
            q.paused
              ? button('Resume', () => run('resume', { queue: q.queue }))
              : button('Pause', () => run('pause', { queue: q.queue })),
            ' ',
            button('Purge', () => run('purge', { queue: q.queue }, `Revoke every waiting task of ${q.queue}?`), 'danger'),
          ),
        );
      }
      return cells;
    }),
    'no queues yet',
  );
}

/** Live workers with their heartbeat age and what they run now. */
export function showWorkers(workers: Worker[], openTask: (id: string) => void): void {
  fillTable(
    byId('workers'),
    ['Worker', 'Queues', 'Busy', 'Heartbeat', 'Running now'],
    workers.map((w) => [
      el(
        'td',
        { class: 'mono' },
        `${w.host}:${w.pid}`,
        el('br'),
        el('span', { class: 'muted' }, `v${w.version}${w.beat ? ', beat' : ''}`),
      ),
      w.queues.join(', '),
      `${w.runningCount} / ${w.concurrency}`,
      `${age(w.heartbeatAt)} ago`,
      el(
        'td',
        {},
        ...w.running.map((t) => {
          const link = el('a', { href: '#', 'data-task': t.id }, `${t.name} #${t.attempt}`);
          link.addEventListener('click', (e) => {
            e.preventDefault();
            openTask(t.id);
          });
          return el('div', {}, link, el('span', { class: 'muted' }, ` ${age(t.startedAt)}`));
        }),
      ),
    ]),
    'no live workers',
  );
}

export function showDeadLetters(letters: DeadLetterRow[], run: Run): void {
  const headers = ['Task', 'Queue', 'Error', 'Payload', 'At'];
  if (config.canWrite) headers.push('');
  fillTable(
    byId('dead-letters'),
    headers,
    letters.map((d) => {
      const cells: Array<Node | string> = [
        el('td', { class: 'mono' }, d.name, el('br'), el('span', { class: 'muted' }, d.id)),
        d.queue,
        `${d.error.type}: ${d.error.message.text}${d.error.message.truncated ? '…' : ''}`,
        el('td', { class: 'mono' }, d.payload.text + (d.payload.truncated ? '…' : '')),
        time(d.at),
      ];
      if (config.canWrite) {
        cells.push(
          el(
            'td',
            { class: 'row-actions' },
            button('Retry', () => run('retry-dead-letters', { ids: [d.id] })),
            ' ',
            button('Drop', () => run('drop-dead-letters', { ids: [d.id] }), 'danger'),
          ),
        );
      }
      return cells;
    }),
    'no dead letters',
  );
}

export function showSchedules(schedules: Schedule[]): void {
  fillTable(
    byId('schedules'),
    ['Schedule', 'Task', 'When', 'Next run'],
    schedules.map((s) => [s.name, el('td', { class: 'mono' }, s.task), s.spec, new Date(s.nextRunAt).toLocaleString()]),
    'no schedules in this app',
  );
}

export function showActions(actions: ActionEntry[]): void {
  fillTable(
    byId('actions'),
    ['At', 'Who', 'Action', 'Target', 'Count'],
    actions.map((a) => [new Date(a.at).toLocaleString(), a.actor, a.action, el('td', { class: 'mono' }, a.target), a.count]),
    'no actions yet',
  );
}
