// The /beat/ page: each tick of the demo's schedule, live, from its tag feed.
import { watchFeed, type FeedEntry } from '../../src/client/index.js';

const SHOWN = 10;

export function wireBeatTicks(list: HTMLElement): void {
  const tag = list.dataset.tag;
  const state = document.querySelector<HTMLElement>('#beat-state');
  if (!tag || !state) throw new Error('the beat page lacks its tag or #beat-state');
  const rows = new Map<string, HTMLElement>();
  const show = (entry: FeedEntry<{ ranAt?: string }>): void => {
    let row = rows.get(entry.task_id);
    if (!row) {
      row = document.createElement('li');
      row.className = 'list-group-item d-flex justify-content-between';
      row.dataset.taskId = entry.task_id;
      rows.set(entry.task_id, row);
      list.prepend(row);
      while (list.children.length > SHOWN) list.lastElementChild?.remove();
    }
    row.dataset.state = entry.state;
    const label = document.createElement('span');
    label.textContent = `tick ${entry.task_id.slice(0, 8)}`;
    const detail = document.createElement('span');
    detail.className = entry.state === 'SUCCESS' ? 'text-success' : 'text-body-secondary';
    detail.textContent =
      entry.state === 'SUCCESS' && entry.result?.ranAt ? `ran at ${entry.result.ranAt}` : entry.state.toLowerCase();
    row.replaceChildren(label, detail);
  };
  // Ticks from now on (the feed may hold a day of them).
  watchFeed(tag, {
    after: 'now',
    onEntry: (entry) => show(entry as FeedEntry<{ ranAt?: string }>),
    onError: (error) => (state.textContent = `feed stopped: ${error.message}`),
  });
  state.textContent = 'waiting for the next tick';
}
