/** Runs `fn` every `ms`, one call at a time (a tick that finds the last call running is skipped); failures go to `onError`. */
export function repeatEvery(ms: number, fn: () => Promise<void>, onError: (error: unknown) => void): NodeJS.Timeout {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fn()
      .catch(onError)
      .finally(() => (busy = false));
  }, ms);
  timer.unref();
  return timer;
}
