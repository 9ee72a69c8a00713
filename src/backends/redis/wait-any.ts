/** Resolves after `ms`, when any signal aborts or when `promise` settles, whichever is first. */
export function waitAny(ms: number, signals: Array<AbortSignal | undefined>, promise?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (live.some((s) => s.aborted)) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    for (const s of live) s.addEventListener('abort', done, { once: true });
    promise?.then(done, done);
  });
}
