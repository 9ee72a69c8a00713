// Concurrency inside one task: while one request waits on the network, the others are already under way.
import type { Errand } from '../../src/index.js';

export interface Fetched {
  url: string;
  status: number;
  body: unknown;
}

/** ctx.signal goes to fetch, so a time limit, revoke or shutdown also cancels the requests in flight. */
async function fetchJson(url: string, signal: AbortSignal): Promise<Fetched> {
  const res = await fetch(url, { signal });
  return { url, status: res.status, body: await res.json() };
}

export function defineFetchTasks(app: Errand) {
  return {
    // All requests start at once: the task takes about as long as the slowest one.
    fetchAll: app.task('fetch.all', (ctx, urls: string[]) => Promise.all(urls.map((url) => fetchJson(url, ctx.signal))), {
      timeout: 10_000,
    }),
    // The contrast: each request waits for the one before, so the task takes the sum of them all.
    fetchOneByOne: app.task(
      'fetch.one-by-one',
      async (ctx, urls: string[]) => {
        const results: Fetched[] = [];
        for (const url of urls) results.push(await fetchJson(url, ctx.signal));
        return results;
      },
      { timeout: 10_000 },
    ),
  };
}
