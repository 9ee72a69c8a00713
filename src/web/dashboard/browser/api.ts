import { byId } from './dom.js';

/** What the server put on <body>: the dashboard's path, the CSRF token, who is looking. */
export const config = {
  base: document.body.dataset.base ?? '',
  csrf: document.body.dataset.csrf ?? '',
  user: document.body.dataset.user ?? '',
  canWrite: document.body.dataset.access === 'write',
};

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${config.base}/api/${path}`, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(await errorText(response));
  return (await response.json()) as T;
}

/** A state-changing POST: JSON body plus the CSRF token in its header. */
export async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${config.base}/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': config.csrf },
    body: JSON.stringify(body),
  });
}

/** Runs an action through app.admin; says how it went in the message bar. */
export async function act(action: string, body: unknown): Promise<boolean> {
  try {
    const response = await post(`actions/${action}`, body);
    if (!response.ok) {
      say(await errorText(response), true);
      return false;
    }
    const { count } = (await response.json()) as { count: number };
    say(`${action}: ${count} done`);
    return true;
  } catch (error) {
    say(`${action} failed: ${String(error)}`, true);
    return false;
  }
}

export function say(text: string, isError = false): void {
  const bar = byId('message');
  bar.textContent = text;
  bar.className = isError ? 'error' : '';
}

async function errorText(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: string; field?: string };
    return `${response.status}: ${body.message ?? 'failed'}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}
