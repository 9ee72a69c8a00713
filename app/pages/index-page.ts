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
</div>`;
  return layout({ title: 'Home', body });
}
