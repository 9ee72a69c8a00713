/**
 * Wall-clock time in ms with sub-ms resolution, comparable across processes
 * on one machine (both sides read the same system clock). Date.now() would
 * quantise sub-millisecond latencies to 0 or 1 ms.
 */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps until the wall clock reaches `at` (timers are ms-granular; this is close enough). */
export async function sleepUntil(at: number): Promise<void> {
  const left = at - clock();
  if (left > 0.5) await sleep(Math.floor(left));
}
