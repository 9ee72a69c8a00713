// Helpers for the hook tests in happy-dom: the page's URL, its visibility, and counting what the client opens.
import { waitFor } from '@testing-library/react';

interface HappyWindow {
  happyDOM: { setURL(url: string): void };
}

/** Puts the page on the test server's origin, as if it had been served from there. */
export function servePageFrom(base: string): void {
  (globalThis as unknown as { window: HappyWindow }).window.happyDOM.setURL(`${base}/`);
}

let visibility: DocumentVisibilityState = 'visible';
let visibilityPatched = false;

/** Hides or shows the tab: document.visibilityState changes and visibilitychange fires. */
export function setVisibility(state: DocumentVisibilityState): void {
  if (!visibilityPatched) {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility === 'hidden' });
    visibilityPatched = true;
  }
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

type Global = { WebSocket?: unknown; fetch: typeof fetch };
const g = globalThis as unknown as Global;
const originalWebSocket = g.WebSocket as typeof WebSocket;
const originalFetch = g.fetch;

export interface Spies {
  sockets: WebSocket[];
  /** Every fetch the client made: "METHOD path" (task ids as :id). */
  requests: string[];
  /** Sockets not yet CLOSED. */
  openSockets(): number;
  /** Makes new WebSockets fail to connect (a refused port), as behind a proxy that drops upgrades. */
  refuseWebSockets(port: number): void;
  /** Makes fetches of text/event-stream fail, as behind a proxy that breaks streaming. */
  refuseSse(): void;
  restore(): void;
}

/** Wraps the page's WebSocket and fetch to see what the client opens. */
export function spyOnTransports(): Spies {
  const sockets: WebSocket[] = [];
  const requests: string[] = [];
  let refusePort: number | undefined;
  let refuseSse = false;
  class CountingWebSocket extends originalWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const target = new URL(url);
      if (refusePort !== undefined) target.port = String(refusePort);
      super(target, protocols);
      sockets.push(this);
    }
  }
  g.WebSocket = CountingWebSocket;
  g.fetch = (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input), location.href);
    requests.push(`${init?.method ?? 'GET'} ${url.pathname.replace(/[0-9a-f-]{36}/, ':id')}`);
    const headers = new Headers(init?.headers);
    if (refuseSse && headers.get('accept') === 'text/event-stream') return Promise.reject(new TypeError('network error'));
    // happy-dom ignores `cache: 'no-store'` and would answer a 304 from its own cache (and throw, having none);
    // the Fetch spec has the browser add this header for 'no-store', and happy-dom honours the header.
    if (init?.cache === 'no-store' && !headers.has('cache-control')) headers.set('cache-control', 'no-cache');
    return originalFetch(input, { ...init, headers });
  };
  return {
    sockets,
    requests,
    openSockets: () => sockets.filter((s) => s.readyState !== WebSocket.CLOSED).length,
    refuseWebSockets: (port) => void (refusePort = port),
    refuseSse: () => void (refuseSse = true),
    restore() {
      g.WebSocket = originalWebSocket;
      g.fetch = originalFetch;
    },
  };
}

/** A port nothing listens on. */
export const CLOSED_PORT = 9;

/** Waits until `check` passes (default 10 s). */
export function eventually(check: () => void, timeout = 10_000): Promise<void> {
  return waitFor(check, { timeout, interval: 10 });
}
