// Entry of /static/errand-client.js: wires the subscribe form, the progress demo, the notifications or the beat page, whichever the page has.
import { watchTask } from '../../src/client/index.js';
import { FormView } from './form-view.js';
import { wireBeatTicks } from './beat-ticks.js';
import { wireNotifications } from './notification-toasts.js';
import { wireProgressPanel } from './progress-panel.js';
import { submitForm } from './submit-form.js';
import { errorText, progressOf, type ShownStatus } from './task-status-text.js';

type Transport = 'poll' | 'ws' | 'sse';

function setting<T extends string>(form: HTMLFormElement, name: string, allowed: readonly T[]): T {
  const value = form.dataset[name];
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`form data-${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function wire(form: HTMLFormElement): void {
  const view = new FormView(form);
  const flavour = setting(form, 'flavour', ['django', 'fastapi'] as const);
  const transport = setting<Transport>(form, 'transport', ['poll', 'ws', 'sse']);
  const baseUrl = setting(form, 'baseUrl', ['', '/users'] as const);
  const action = form.dataset.action ?? location.pathname;

  const showUpdate = (status: ShownStatus): void => {
    const { percent, label } = progressOf(status);
    view.showProgress(percent, label);
  };

  const finish = (status: ShownStatus): void => {
    if (status.state === 'SUCCESS') {
      view.showProgress(100, 'done', 'success');
      view.showMessage('job succeeded', 'success');
    } else if (status.state === 'FAILURE') {
      view.showProgress(progressOf(status).percent, 'failed', 'danger');
      view.showMessage(errorText(status.error), 'danger');
    } else {
      view.showProgress(undefined, status.state.toLowerCase(), 'danger');
      view.showMessage(`job ended in state ${status.state}`, 'danger');
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    view.busy();
    void (async () => {
      try {
        const outcome = await submitForm({ action, flavour, values: view.values() });
        if (outcome.kind === 'invalid') return view.showFieldErrors(outcome.fields);
        if (outcome.kind === 'refused') return view.showMessage(outcome.message, 'danger');
        view.showProgress(0, 'queued');
        // One second between polls, like the Celery tutorials' pages; ws and sse are pushed.
        const watch = watchTask(outcome.taskId, { transport, baseUrl, pollIntervalMs: 1000, onUpdate: showUpdate });
        finish(await watch.done);
      } catch (error) {
        view.showMessage(`Lost track of the task: ${error instanceof Error ? error.message : String(error)}`, 'danger');
      } finally {
        view.idle();
      }
    })();
  });
}

const form = document.querySelector<HTMLFormElement>('#subscribe-form');
if (form) wire(form);

const progressForm = document.querySelector<HTMLFormElement>('#progress-form');
if (progressForm) wireProgressPanel(progressForm);

const notifyForm = document.querySelector<HTMLFormElement>('#notify-form');
if (notifyForm) wireNotifications(notifyForm);

const ticks = document.querySelector<HTMLElement>('#ticks');
if (ticks) wireBeatTicks(ticks);
