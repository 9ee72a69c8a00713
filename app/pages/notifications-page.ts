import { html } from './html.js';
import { layout } from './layout.js';

/** Toasts for every task of this visitor, in every tab: the page script (app/browser/notification-toasts.ts) reads data-tag. */
export function notificationsPage(tag: string): string {
  const body = html`<div class="row">
  <div class="col-12 col-md-8 col-lg-6">
    <h1 class="h3">Notifications</h1>
    <p class="text-body-secondary">
      Each click starts a task in a worker, tagged with you. Every tab you have open on this page follows
      your tasks' feed and shows a toast for each one as it runs and ends; other visitors see none of them.
    </p>
    <form id="notify-form" data-action="/notifications/" data-tag="${tag}">
      <button type="submit" class="btn btn-primary">Start a task</button>
      <span class="ms-2 small text-body-secondary" id="feed-state" role="status">connecting…</span>
    </form>
  </div>
</div>
<div class="toast-container position-fixed bottom-0 end-0 p-3" id="toasts" aria-live="polite"></div>`;
  return layout({ title: 'Notifications', body, withScript: true });
}
