import { FORM_VARIANTS } from '../variants.js';
import { html } from './html.js';
import { layout } from './layout.js';

/** Links the four variants of the form. */
export function indexPage(): string {
  const items = FORM_VARIANTS.map(
    (v) => html`<a class="list-group-item list-group-item-action" href="${v.path}">
      <div class="fw-semibold">${v.title} <code class="ms-1">${v.path}</code></div>
      <div class="small text-body-secondary">${v.summary}</div>
    </a>`,
  );
  const body = html`<h1 class="h3">errand reference app</h1>
<p class="text-body-secondary">
  A newsletter form whose slow, flaky provider call runs in a background worker.
  Each page shows the same task, followed a different way.
</p>
<div class="list-group">${items}</div>
<h2 class="h5 mt-4">Progress</h2>
<div class="list-group" id="progress-pages">
  <a class="list-group-item list-group-item-action" href="/progress/">
    <div class="fw-semibold">Live progress <code class="ms-1">/progress/</code></div>
    <div class="small text-body-secondary">A 200-item task reports after each item; a Bootstrap bar follows it over WebSocket.</div>
  </a>
  <a class="list-group-item list-group-item-action" href="/notifications/">
    <div class="fw-semibold">Notifications <code class="ms-1">/notifications/</code></div>
    <div class="small text-body-secondary">A toast per task of yours in every open tab, from your tag feed (seed 003's per-user group).</div>
  </a>
</div>
<h2 class="h5 mt-4">Periodic tasks and webhooks</h2>
<div class="list-group" id="server-pages">
  <a class="list-group-item list-group-item-action" href="/beat/">
    <div class="fw-semibold">Beat <code class="ms-1">/beat/</code></div>
    <div class="small text-body-secondary">A schedule every 10 s run by the workers' beat loops: each tick once, shown live.</div>
  </a>
  <div class="list-group-item">
    <div class="fw-semibold">Webhooks in <code class="ms-1">POST /webhook_test/</code> <code>POST /webhook_test_async/</code></div>
    <div class="small text-body-secondary">A signed provider event handled in the request, or verified, enqueued and answered 202 at once (also under /users/).</div>
  </div>
  <div class="list-group-item">
    <div class="fw-semibold">Callbacks out <code class="ms-1">POST /callback_test/</code> <code>GET /callback_receiver/</code></div>
    <div class="small text-body-secondary">The task's outcome POSTed, signed, to a callback URL when it ends (here: this app's own receiver).</div>
  </div>
</div>
<h2 class="h5 mt-4">The tutorial's two lessons (runnable examples)</h2>
<div class="list-group" id="examples">
  <div class="list-group-item">
    <div class="fw-semibold">Shared state without races <code class="ms-1">examples/shared-state/</code></div>
    <div class="small text-body-secondary">Items recorded once by content hash, the count derived from rows: exact across 4 workers × 20.</div>
  </div>
  <div class="list-group-item">
    <div class="fw-semibold">Concurrency inside a task <code class="ms-1">examples/concurrent-fetch/</code></div>
    <div class="small text-body-secondary">Slow endpoints fetched at once: the task takes about as long as the slowest, not the sum.</div>
  </div>
</div>
<h2 class="h5 mt-4">Channels</h2>
<div class="list-group" id="channel-pages">
  <a class="list-group-item list-group-item-action" href="/chat/">
    <div class="fw-semibold">Chat rooms <code class="ms-1">/chat/</code></div>
    <div class="small text-body-secondary">Pick a room and a name; everyone in the room sees every message (WS /ws/chat/:room/).</div>
  </a>
  <a class="list-group-item list-group-item-action" href="/two/">
    <div class="fw-semibold">Live chart <code class="ms-1">/two/</code></div>
    <div class="small text-body-secondary">Chart.js plots a value pushed every 2 s over WS /ws/two_url/.</div>
  </a>
</div>
<h2 class="h5 mt-4">Operations</h2>
<div class="list-group" id="operations-pages">
  <a class="list-group-item list-group-item-action" href="/errand/dashboard/">
    <div class="fw-semibold">Dashboard <code class="ms-1">/errand/dashboard/</code></div>
    <div class="small text-body-secondary">Queues, workers, tasks and their attempts, live; retry, revoke, pause (loopback only unless DASHBOARD_TOKEN is set).</div>
  </a>
</div>`;
  return layout({ title: 'Home', body });
}
