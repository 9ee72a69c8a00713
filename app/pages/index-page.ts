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
<div class="list-group">${items}</div>`;
  return layout({ title: 'Home', body });
}
