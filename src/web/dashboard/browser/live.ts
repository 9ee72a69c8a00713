import { config } from './api.js';
import { byId } from './dom.js';

export type Handlers = Record<string, (data: never) => void>;

/**
 * The live stream (SSE) of the dashboard, closed while the tab is hidden
 * (Page Visibility API) and opened again, with the same parameters, when it
 * is visible: a hidden dashboard costs the server nothing.
 */
export class Live {
  private source: EventSource | undefined;
  private params = new URLSearchParams();

  constructor(private readonly handlers: Handlers) {
    document.addEventListener('visibilitychange', () => (document.hidden ? this.pause() : this.open()));
  }

  /** (Re)connects with new parameters (filter, page, selected task); the first events carry every panel. */
  connect(params: URLSearchParams): void {
    this.params = params;
    if (!document.hidden) this.open();
  }

  /** Reconnects now, so every panel is sent again at once (after an action). */
  refresh(): void {
    if (!document.hidden) this.open();
  }

  private open(): void {
    this.source?.close();
    const source = new EventSource(`${config.base}/api/live?${this.params.toString()}`);
    this.source = source;
    status('connecting');
    source.addEventListener('open', () => status('open'));
    source.addEventListener('error', () => status(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting'));
    for (const [name, handle] of Object.entries(this.handlers)) {
      source.addEventListener(name, (event) => {
        if (this.source === source) handle(JSON.parse((event as MessageEvent<string>).data) as never);
      });
    }
  }

  private pause(): void {
    this.source?.close();
    this.source = undefined;
    status('paused');
  }
}

function status(state: string): void {
  const node = byId('live-status');
  node.dataset.live = state;
  node.textContent = state === 'open' ? 'live' : state;
}
