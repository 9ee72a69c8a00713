// The /progress/ page: start the 200-item task, show its progress live, then its result.
import { watchTask, type TypedTask } from '../../src/client/index.js';
import type { ProgressResult } from '../progress-task.js';
import { readCookie } from './submit-form.js';
import { errorText } from './task-status-text.js';

function required<T>(element: T | null, what: string): T {
  if (element === null) throw new Error(`the progress page has no ${what}`);
  return element;
}

/** Text goes in with textContent only, and the bar's width through the CSSOM (the CSP allows no style attributes). */
class ProgressPanel {
  private readonly button: HTMLButtonElement;
  private readonly progress: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly result: HTMLElement;

  constructor(readonly form: HTMLFormElement) {
    this.button = required(form.querySelector<HTMLButtonElement>('button[type="submit"]'), 'button');
    this.progress = required(form.querySelector<HTMLElement>('#progress'), '#progress');
    this.bar = required(form.querySelector<HTMLElement>('#progress-bar'), '#progress-bar');
    this.result = required(form.querySelector<HTMLElement>('#result'), '#result');
  }

  busy(): void {
    this.button.disabled = true;
    this.button.textContent = 'Processing...';
    this.result.replaceChildren();
    this.show(0, 'queued', 'running');
  }

  idle(): void {
    this.button.disabled = false;
    this.button.textContent = 'Start';
  }

  show(percent: number, label: string, tone: 'running' | 'success' | 'danger'): void {
    const value = Math.max(0, Math.min(100, percent));
    this.progress.setAttribute('aria-valuenow', String(Math.round(value)));
    this.bar.style.width = `${value}%`;
    this.bar.textContent = label;
    this.bar.classList.toggle('progress-bar-striped', tone === 'running');
    this.bar.classList.toggle('progress-bar-animated', tone === 'running');
    this.bar.classList.toggle('bg-success', tone === 'success');
    this.bar.classList.toggle('bg-danger', tone === 'danger');
  }

  say(text: string, kind: 'success' | 'danger'): void {
    const alert = document.createElement('div');
    alert.className = `alert alert-${kind} mb-0`;
    alert.id = 'task-message';
    alert.textContent = text;
    this.result.replaceChildren(alert);
  }
}

async function start(action: string): Promise<string> {
  const response = await fetch(action, {
    method: 'POST',
    headers: { 'X-CSRFToken': readCookie('csrftoken') ?? '' },
    credentials: 'same-origin',
  });
  const body = (await response.json().catch(() => ({}))) as { task_id?: unknown; message?: unknown };
  if (response.ok && typeof body.task_id === 'string') return body.task_id;
  throw new Error(typeof body.message === 'string' ? body.message : `the server answered HTTP ${response.status}`);
}

export function wireProgressPanel(form: HTMLFormElement): void {
  const panel = new ProgressPanel(form);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    panel.busy();
    void (async () => {
      try {
        const taskId = await start(form.dataset.action ?? location.pathname);
        // WebSocket first; SSE, then polling, where it cannot connect. A slow tab skips to the latest progress.
        const watch = watchTask<TypedTask<ProgressResult, { item: number }>>(taskId, {
          transport: 'ws',
          onUpdate: (status) => {
            const p = status.progress;
            if (p && typeof p.total === 'number' && p.total > 0) {
              panel.show((p.current / p.total) * 100, `${p.current} / ${p.total}`, 'running');
            }
          },
        });
        const final = await watch.done;
        if (final.state === 'SUCCESS') {
          panel.show(100, 'done', 'success');
          panel.say(`Processed ${final.result?.processed} items (checksum ${final.result?.checksum}).`, 'success');
        } else {
          panel.show(100, final.state.toLowerCase(), 'danger');
          panel.say(final.state === 'FAILURE' ? errorText(final.error) : `The task ended ${final.state}.`, 'danger');
        }
      } catch (error) {
        panel.say(`Lost track of the task: ${error instanceof Error ? error.message : String(error)}`, 'danger');
      } finally {
        panel.idle();
      }
    })();
  });
}
