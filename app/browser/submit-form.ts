import type { FieldName } from './form-view.js';

/** What the server made of a submission. */
export type SubmitOutcome =
  | { kind: 'queued'; taskId: string }
  | { kind: 'invalid'; fields: Partial<Record<FieldName, string>> }
  | { kind: 'refused'; message: string };

export interface SubmitRequest {
  action: string;
  flavour: 'django' | 'fastapi';
  values: Record<FieldName, string>;
}

/** Posts the form the way its flavour expects: urlencoded + CSRF header, or JSON. */
export async function submitForm({ action, flavour, values }: SubmitRequest): Promise<SubmitOutcome> {
  const init: RequestInit =
    flavour === 'django'
      ? {
          method: 'POST',
          headers: { 'X-CSRFToken': readCookie('csrftoken') ?? '' },
          body: new URLSearchParams(values),
        }
      : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(values) };
  const response = await fetch(action, { ...init, credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok && typeof body.task_id === 'string') return { kind: 'queued', taskId: body.task_id };
  if (response.status === 400 && body.error === 'validation' && isFieldMap(body.fields)) {
    return { kind: 'invalid', fields: body.fields };
  }
  return { kind: 'refused', message: refusal(response.status, body) };
}

function refusal(status: number, body: Record<string, unknown>): string {
  if (status === 403) return 'The request was refused (security check failed). Reload the page and try again.';
  if (status === 413) return 'The form is too large.';
  return typeof body.message === 'string' ? body.message : `The server answered HTTP ${status}.`;
}

function isFieldMap(value: unknown): value is Partial<Record<FieldName, string>> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
