export interface Endpoints {
  poll(id: string): string;
  sse(id: string): string;
  ws(id: string): string;
}

/**
 * The three endpoint URLs under `baseUrl`: a path prefix such as '/users'
 * (resolved against the page's location), or an absolute http(s) URL.
 */
export function endpoints(baseUrl = ''): Endpoints {
  const trimmed = baseUrl.replace(/\/+$/, '');
  const absolute = /^https?:\/\//i.test(trimmed);
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  const httpBase = trimmed; // a relative path is fine for fetch in a page
  const wsBase = absolute
    ? trimmed.replace(/^http/i, 'ws')
    : `${location?.protocol === 'https:' ? 'wss' : 'ws'}://${location?.host ?? 'localhost'}${trimmed}`;
  const id = (value: string): string => encodeURIComponent(value);
  return {
    poll: (task) => `${httpBase}/task_status/?task_id=${id(task)}`,
    sse: (task) => `${httpBase}/tasks/${id(task)}/events`,
    ws: (task) => `${wsBase}/ws/task_status/${id(task)}/`,
  };
}
