import { config } from './api.js';
import { button, byId, el, fillTable, stateBadge, time } from './dom.js';
import type { Run } from './panels.js';
import type { TaskPage, TaskRow } from './types.js';

const FINISHED = ['SUCCESS', 'FAILURE', 'REVOKED'];

export function canRetry(state: string): boolean {
  return state === 'FAILURE' || state === 'REVOKED';
}

export function canRevoke(state: string): boolean {
  return !FINISHED.includes(state);
}

/** The retry / revoke buttons a task in `state` offers (none for read-only users). */
export function taskButtons(task: Pick<TaskRow, 'id' | 'state'>, run: Run): HTMLElement[] {
  if (!config.canWrite) return [];
  const out: HTMLElement[] = [];
  if (canRetry(task.state)) out.push(button('Retry', () => run('retry', { ids: [task.id] }), 'retry'));
  if (canRevoke(task.state)) out.push(button('Revoke', () => run('revoke', { ids: [task.id] }), 'revoke danger'));
  return out;
}

/** One page of the task list; a row's name opens its detail. */
export function showTasks(page: TaskPage, selected: string | undefined, run: Run, open: (id: string) => void): void {
  const headers = ['Task', 'State', 'Queue', 'Enqueued', 'Attempts', 'Result / error'];
  if (config.canWrite) headers.push('');
  fillTable(
    byId('tasks'),
    headers,
    page.tasks.map((t) => {
      const link = el('a', { href: `#${t.id}`, class: 'task-link' }, t.name);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        open(t.id);
      });
      const cells: Array<Node | string | number> = [
        el('td', {}, link, el('br'), el('span', { class: 'muted mono' }, t.id)),
        el(
          'td',
          { class: 'task-state' },
          stateBadge(t.state),
          t.progress && canRevoke(t.state) ? ` ${t.progress.current}/${t.progress.total ?? '?'}` : '',
        ),
        t.queue,
        time(t.enqueuedAt),
        t.attempts,
        el('td', { class: 'mono' }, outcome(t)),
      ];
      if (config.canWrite) cells.push(el('td', { class: 'row-actions' }, ...taskButtons(t, run)));
      return cells;
    }),
    'no tasks match',
  );
  for (const row of byId('tasks').querySelectorAll('tr')) row.classList.remove('selected');
  page.tasks.forEach((t, i) => {
    const row = byId('tasks').querySelectorAll('tr')[i + 1];
    row?.setAttribute('data-task', t.id);
    row?.setAttribute('data-state', t.state);
    if (t.id === selected) row?.classList.add('selected');
  });
  byId<HTMLButtonElement>('next-page').disabled = page.next === undefined;
}

function outcome(t: TaskRow): string {
  if (t.error) return `${t.error.type}: ${t.error.message.text}${t.error.message.truncated ? '…' : ''}`;
  if (t.result) return t.result.text + (t.result.truncated ? `… (${t.result.bytes} bytes)` : '');
  return '';
}
