/**
 * The dashboard's HTML: a fixed skeleton that the browser code fills with
 * textContent. The only values put in here (title, paths, token, user) are
 * attribute- or text-escaped.
 */

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CSP,
  'cache-control': 'no-store, private',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageValues {
  title: string;
  base: string;
  csrf: string;
  user: string;
  access: 'read' | 'write';
  /** Whether a logout button makes sense (a login cookie may be set). */
  canLogOut: boolean;
}

function head(title: string, base: string, scripts: string[]): string {
  const tags = scripts.map(
    (src) =>
      `<script src="${escapeHtml(`${base}/assets/${src}`)}"${src.endsWith('.umd.js') ? ' defer' : ' type="module"'}></script>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(base)}/assets/dashboard.css">
${tags.join('\n')}
</head>`;
}

function section(id: string, title: string, inner = ''): string {
  return `<section id="${id}" class="panel"><h2>${title}</h2>${inner}</section>`;
}

export function dashboardPage(v: PageValues): string {
  const body = `<body data-base="${escapeHtml(v.base)}" data-csrf="${escapeHtml(v.csrf)}" data-user="${escapeHtml(v.user)}" data-access="${v.access}">
<header><h1>${escapeHtml(v.title)}</h1>
<span id="live-status" data-live="connecting">connecting</span>
<span id="viewer">${escapeHtml(v.user)} (${v.access === 'write' ? 'read and write' : 'read only'})</span>
${v.canLogOut ? '<button id="logout" type="button">Log out</button>' : ''}
</header>
<p id="message" role="status"></p>
<main>
${section('queues-panel', 'Queues', '<div id="states" class="states"></div><table id="queues"></table>')}
${section('charts-panel', 'Last hour', '<div class="charts"><div><canvas id="throughput-chart" aria-label="tasks per minute"></canvas></div><div><canvas id="failure-chart" aria-label="failure rate per minute"></canvas></div><div><canvas id="depth-chart" aria-label="waiting tasks per queue"></canvas></div></div>')}
${section('workers-panel', 'Workers', '<table id="workers"></table>')}
${section('tasks-panel', 'Tasks', taskFilter() + '<table id="tasks"></table><div class="pager"><button id="first-page" type="button">First page</button><button id="next-page" type="button">Next page</button></div>')}
${section('task-detail', 'Task', '<div id="detail-body"></div>')}
${section('dead-letters-panel', 'Dead letters', '<div class="bulk" data-write><button id="retry-all-dead" type="button">Retry all</button><button id="drop-all-dead" type="button">Drop all</button></div><table id="dead-letters"></table>')}
${section('schedules-panel', 'Schedules', '<table id="schedules"></table>')}
${section('actions-panel', 'Action log', '<table id="actions"></table>')}
</main>
</body></html>`;
  return `${head(v.title, v.base, ['chart.umd.js', 'main.js'])}\n${body}`;
}

function taskFilter(): string {
  const states = ['', 'PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];
  const options = states.map((s) => `<option value="${s}">${s || 'any state'}</option>`).join('');
  return `<form id="task-filter" class="filter">
<label>State <select name="state" id="filter-state">${options}</select></label>
<label>Name <input name="name" id="filter-name" autocomplete="off"></label>
<label>Queue <input name="queue" id="filter-queue" autocomplete="off"></label>
<button type="submit">Filter</button>
<button type="button" id="retry-failed" data-write>Retry all FAILURE</button>
</form>`;
}

export function loginPage(title: string, base: string, csrf: string): string {
  return `${head(title, base, ['login.js'])}
<body data-base="${escapeHtml(base)}" data-csrf="${escapeHtml(csrf)}" class="login">
<form id="login-form"><h1>${escapeHtml(title)}</h1>
<label>Token <input type="password" id="token" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
<p id="login-error" role="alert"></p>
</form>
</body></html>`;
}
