import { html } from './html.js';
import { layout } from './layout.js';

/** The beat schedule's ticks as they run: the page script (app/browser/beat-ticks.ts) follows the tag in data-tag. */
export function beatPage(tag: string, everyMs: number): string {
  const body = html`<div class="row">
  <div class="col-12 col-md-8 col-lg-6">
    <h1 class="h3">Periodic tasks</h1>
    <p class="text-body-secondary">
      Every worker runs a beat loop (<code>worker({ beat: true })</code>) over the schedule
      <code>demo.clock</code>, every ${String(everyMs / 1000)} s. Each tick is enqueued once however many
      workers run it; the list shows each tick's task as it runs, from the schedule's tag feed.
    </p>
    <ul class="list-group" id="ticks" data-tag="${tag}" aria-live="polite"></ul>
    <p class="small text-body-secondary mt-2" id="beat-state" role="status">connecting…</p>
  </div>
</div>`;
  return layout({ title: 'Periodic tasks', body, withScript: true });
}
