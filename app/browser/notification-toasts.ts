// The /notifications/ page: a toast per task of this visitor, in every open tab, from the tag feed.
import { watchFeed, type FeedEntry } from '../../src/client/index.js';
import { readCookie } from './submit-form.js';
import { errorText } from './task-status-text.js';

const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** One Bootstrap toast per task, shown with the `show` class (no Bootstrap JS); text through textContent only. */
class Toasts {
  private readonly byTask = new Map<string, { root: HTMLElement; body: HTMLElement }>();

  constructor(private readonly container: HTMLElement) {}

  show(entry: FeedEntry): void {
    const toast = this.byTask.get(entry.task_id) ?? this.create(entry.task_id);
    toast.root.dataset.state = entry.state;
    toast.body.textContent = describe(entry);
    toast.root.classList.toggle('text-bg-success', entry.state === 'SUCCESS');
    toast.root.classList.toggle('text-bg-danger', entry.state === 'FAILURE' || entry.state === 'REVOKED');
  }

  private create(taskId: string): { root: HTMLElement; body: HTMLElement } {
    const root = document.createElement('div');
    root.className = 'toast show mb-2';
    root.setAttribute('role', 'status');
    root.dataset.taskId = taskId;
    const header = document.createElement('div');
    header.className = 'toast-header';
    const title = document.createElement('strong');
    title.className = 'me-auto';
    title.textContent = `Task ${taskId.slice(0, 8)}`;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-close';
    close.setAttribute('aria-label', 'Close');
    close.addEventListener('click', () => root.remove());
    header.append(title, close);
    const body = document.createElement('div');
    body.className = 'toast-body';
    root.append(header, body);
    this.container.prepend(root);
    const toast = { root, body };
    this.byTask.set(taskId, toast);
    return toast;
  }
}

function describe(entry: FeedEntry): string {
  if (entry.state === 'SUCCESS') return 'done';
  if (entry.state === 'FAILURE') return `failed: ${errorText(entry.error)}`;
  if (entry.state === 'REVOKED') return 'revoked';
  const p = entry.progress;
  if (p && typeof p.total === 'number' && p.total > 0) return `running: ${p.current} / ${p.total}`;
  return entry.state === 'PENDING' ? 'queued' : 'running';
}

export function wireNotifications(form: HTMLFormElement): void {
  const tag = form.dataset.tag;
  const container = document.querySelector<HTMLElement>('#toasts');
  const state = document.querySelector<HTMLElement>('#feed-state');
  if (!tag || !container || !state) throw new Error('the notifications page lacks its tag, #toasts or #feed-state');
  const toasts = new Toasts(container);
  // Only tasks that change from now on: a new tab shows no toasts for old tasks.
  watchFeed(tag, {
    after: 'now',
    transport: 'ws',
    onEntry: (entry) => {
      toasts.show(entry);
      if (TERMINAL.has(entry.state))
        state.textContent = `last update: task ${entry.task_id.slice(0, 8)} ${entry.state.toLowerCase()}`;
    },
    onError: (error) => (state.textContent = `feed stopped: ${error.message}`),
  });
  state.textContent = 'following your tasks';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void fetch(form.dataset.action ?? location.pathname, {
      method: 'POST',
      headers: { 'X-CSRFToken': readCookie('csrftoken') ?? '' },
      credentials: 'same-origin',
    }).then(async (response) => {
      if (!response.ok) state.textContent = `could not start: HTTP ${response.status}`;
    });
  });
}
