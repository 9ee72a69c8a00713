/** The parts of a task status message the page shows. */
export interface ShownStatus {
  state: string;
  error?: unknown;
  progress?: { current: number; total?: number; meta?: unknown } | null;
}

const STATE_LABELS: Record<string, string> = {
  PENDING: 'waiting for a worker',
  STARTED: 'started',
  PROGRESS: 'working',
  RETRY: 'retrying',
};

/** Progress as a percentage (when the task gave a total) and a short label. */
export function progressOf(status: ShownStatus): { percent: number | undefined; label: string } {
  const p = status.progress;
  const label = typeof p?.meta === 'string' ? p.meta : (STATE_LABELS[status.state] ?? status.state.toLowerCase());
  if (p && typeof p.total === 'number' && p.total > 0) return { percent: (p.current / p.total) * 100, label };
  return { percent: status.state === 'PENDING' ? 0 : undefined, label };
}

/** The failure text: the server may send a string or a {type, message} record. */
export function errorText(error: unknown): string {
  if (typeof error === 'string' && error.length > 0) return error;
  if (typeof error === 'object' && error !== null) {
    const { type, message } = error as { type?: unknown; message?: unknown };
    if (typeof message === 'string') return typeof type === 'string' && type.length > 0 ? `${type}: ${message}` : message;
  }
  return 'The task failed.';
}
