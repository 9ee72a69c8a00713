/** Where the CSRF token comes from and which header carries it (Django's names by default). */
export interface CsrfOptions {
  /** Request header that carries the token (default 'X-CSRFToken'). */
  header?: string;
  /** Cookie the token is read from when `token` is not given (default 'csrftoken'). */
  cookie?: string;
  /** The token itself, or a function returning it (a meta tag, a store…). */
  token?: string | (() => string | null | undefined);
}

export type EnqueueBody = FormData | URLSearchParams | Record<string, unknown> | readonly unknown[];

export interface EnqueueRequestOptions {
  /** How a body is sent: 'form' (urlencoded; the default for FormData and URLSearchParams) or 'json' (the default otherwise). */
  encoding?: 'form' | 'json';
  /** Send a CSRF token: true for the defaults (cookie 'csrftoken' → header 'X-CSRFToken'). */
  csrf?: boolean | CsrfOptions;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** fetch's credentials (default 'same-origin'). */
  credentials?: RequestCredentials;
  /** Reads the task id from the JSON answer (default: its `task_id`). */
  taskIdFrom?: (body: unknown) => string | undefined;
}

/** The endpoint refused the submission or gave no task id; `status` is 0 when it could not be reached. */
export class EnqueueError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The answer's JSON body, if any (validation errors, for instance). */
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'EnqueueError';
  }
}

/** POSTs `values` to `url` and returns the task id of the answer `{ task_id }`; throws EnqueueError. */
export async function postForTask(
  url: string,
  values: EnqueueBody,
  options: EnqueueRequestOptions = {},
  signal?: AbortSignal,
): Promise<string> {
  const isForm = values instanceof FormData || values instanceof URLSearchParams;
  const encoding = options.encoding ?? (isForm ? 'form' : 'json');
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | URLSearchParams;
  if (encoding === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(isForm ? Object.fromEntries(values.entries()) : values);
  } else {
    body = formBody(values);
  }
  const csrf = csrfOptions(options.csrf);
  if (csrf) {
    const token = typeof csrf.token === 'function' ? csrf.token() : (csrf.token ?? readCookie(csrf.cookie ?? 'csrftoken'));
    if (token) headers[csrf.header ?? 'X-CSRFToken'] = token;
  }

  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, credentials: options.credentials ?? 'same-origin', signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new EnqueueError(`could not reach ${url}: ${error instanceof Error ? error.message : String(error)}`, 0, undefined);
  }
  const answer: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new EnqueueError(refusal(response.status, answer), response.status, answer);
  const id = (options.taskIdFrom ?? defaultTaskId)(answer);
  if (typeof id !== 'string' || id === '') throw new EnqueueError('the answer has no task id', response.status, answer);
  return id;
}

function defaultTaskId(body: unknown): string | undefined {
  const id = typeof body === 'object' && body !== null ? (body as { task_id?: unknown }).task_id : undefined;
  return typeof id === 'string' ? id : undefined;
}

function csrfOptions(option: EnqueueRequestOptions['csrf']): CsrfOptions | undefined {
  if (option === true) return {};
  return option || undefined;
}

function formBody(values: EnqueueBody): URLSearchParams {
  if (values instanceof URLSearchParams) return values;
  const params = new URLSearchParams();
  const entries = values instanceof FormData ? [...values.entries()] : Object.entries(values);
  for (const [key, value] of entries) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      if (typeof item === 'object') throw new TypeError(`form field ${key}: send objects and files as JSON`);
      params.append(key, String(item));
    }
  }
  return params;
}

function refusal(status: number, body: unknown): string {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : `the server answered HTTP ${status}`;
}

function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
