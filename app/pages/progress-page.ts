import { PROGRESS_ITEMS } from '../progress-task.js';
import { html } from './html.js';
import { layout } from './layout.js';

/** A long task's progress, live: the page script (app/browser/progress-panel.ts) finds the form by id. */
export function progressPage(): string {
  const body = html`<div class="row">
  <div class="col-12 col-md-8 col-lg-6">
    <h1 class="h3">Live progress</h1>
    <p class="text-body-secondary">
      A task works through ${String(PROGRESS_ITEMS)} items in a worker and reports after each one;
      the bar follows it over WebSocket (SSE, then polling, where that cannot connect).
    </p>
    <form id="progress-form" data-action="/progress/">
      <div class="progress mb-3" id="progress" role="progressbar" aria-label="Task progress"
           aria-valuemin="0" aria-valuemax="100" aria-valuenow="0">
        <div class="progress-bar" id="progress-bar"></div>
      </div>
      <div class="mb-3" id="result" role="status" aria-live="polite"></div>
      <button type="submit" class="btn btn-primary">Start</button>
    </form>
  </div>
</div>`;
  return layout({ title: 'Live progress', body, withScript: true });
}
