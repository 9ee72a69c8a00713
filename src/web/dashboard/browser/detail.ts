import { config } from './api.js';
import { bytes, byId, el, fillTable, stateBadge, time } from './dom.js';
import type { Run } from './panels.js';
import { taskButtons } from './tasks.js';
import type { Detail, Preview } from './types.js';

/** The selected task: its fields, args and result (paged past 64 KB), and the attempts timeline. */
export function showDetail(detail: Detail | { missing: string }, run: Run): void {
  const body = byId('detail-body');
  if ('missing' in detail) {
    body.replaceChildren(el('p', { class: 'muted' }, `task ${detail.missing} is unknown or expired`));
    return;
  }
  const t = detail.info;
  const facts: Array<[string, string]> = [
    ['id', t.id],
    ['name', t.name],
    ['queue', t.queue],
    ['version', String(t.version)],
    ['attempts', `${t.attempts} (retries ${t.retries})`],
    ['enqueued', time(t.enqueuedAt)],
    ['due', time(t.runAt)],
    ['started', time(t.startedAt)],
    ['finished', time(t.finishedAt)],
    ['tags', (t.tags ?? []).join(', ')],
    ['dead-lettered', detail.deadLettered ? 'yes' : 'no'],
  ];
  if (t.error) facts.push(['error', `${t.error.type}: ${t.error.message.text}`]);
  const table = el('table', { class: 'facts' });
  table.append(...facts.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { class: 'mono' }, v))));
  const attempts = el('table', { id: 'attempts' });
  fillTable(
    attempts,
    ['#', 'Worker', 'Started', 'Ended', 'Result', 'Error'],
    detail.attempts.map((a) => [
      a.attempt,
      a.workerId ?? '',
      time(a.startedAt),
      time(a.endedAt),
      a.result,
      a.error ? errorCell(a.error) : '',
    ]),
  );
  const result = t.result ? [el('h3', {}, 'Result'), valueView(t.id, 'result', t.result)] : [];
  body.replaceChildren(
    el(
      'div',
      { class: 'detail-head' },
      stateBadge(t.state),
      ' ',
      el('strong', { id: 'detail-state', 'data-state': t.state }, t.state),
      ' ',
      ...taskButtons(t, run),
    ),
    table,
    el('h3', {}, 'Arguments'),
    valueView(t.id, 'args', detail.args),
    ...result,
    el('h3', {}, 'Attempts'),
    attempts,
  );
}

/**
 * A value's text: pretty when whole. When cut: its size, and pages from the
 * raw endpoint, each starting where the one before ended (X-Next-Offset).
 */
function valueView(id: string, field: string, value: Preview): HTMLElement {
  const pre = el('pre', { class: `value value-${field}` }, value.truncated ? value.text : pretty(value.text));
  const rawUrl = `${config.base}/api/tasks/${encodeURIComponent(id)}/raw/${field}`;
  const info = el(
    'p',
    { class: 'muted' },
    `${bytes(value.bytes)}`,
    ' · ',
    el('a', { href: rawUrl, target: '_blank', rel: 'noopener' }, 'raw'),
  );
  if (!value.truncated) return el('div', {}, info, pre);
  /** Where each page shown so far starts, and where the next one does. */
  const starts = [0, value.text.length];
  let page = 0;
  const where = el('span', { class: 'page-of' });
  const label = (): void =>
    void (where.textContent = `characters ${starts[page]! + 1}–${starts[page + 1]} of ${value.chars} (truncated)`);
  label();
  const go = async (to: number): Promise<void> => {
    const from = starts[to];
    if (to < 0 || from === undefined || from >= value.chars) return;
    const response = await fetch(`${rawUrl}?offset=${from}`);
    if (!response.ok) return;
    pre.textContent = await response.text();
    starts[to + 1] = Number(response.headers.get('x-next-offset') ?? value.chars);
    page = to;
    label();
  };
  const prev = el('button', { type: 'button' }, 'Previous');
  const next = el('button', { type: 'button' }, 'Next');
  prev.addEventListener('click', () => void go(page - 1));
  next.addEventListener('click', () => void go(page + 1));
  return el('div', {}, info, el('div', { class: 'pager' }, prev, where, next), pre);
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** An attempt's error: its class and message, and its stack folded away when there is one. */
function errorCell(error: NonNullable<Detail['attempts'][number]['error']>): HTMLElement | string {
  const line = `${error.type}: ${error.message.text}`;
  if (error.stack === undefined) return line;
  return el('details', {}, el('summary', {}, line), el('pre', { class: 'value stack' }, error.stack));
}
