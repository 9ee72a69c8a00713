import type { TagFeedEntry } from '../../core/backend.js';
import type { Errand } from '../../core/errand.js';

/**
 * app.watchTag for one connection, closable from outside (the client left,
 * the server closes): iterating ends quietly then. A broker error ends it
 * too, logged; the client reconnects with its last cursor.
 */
export class FeedStream implements AsyncIterable<TagFeedEntry> {
  private readonly controller = new AbortController();

  constructor(
    private readonly app: Errand,
    private readonly tag: string,
    private readonly after: number,
    private readonly log: (error: unknown, message: string) => void,
  ) {}

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  close(): void {
    this.controller.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TagFeedEntry> {
    try {
      yield* this.app.watchTag(this.tag, { after: this.after, signal: this.controller.signal });
    } catch (error) {
      if (!this.closed) this.log(error, 'errand: a tag feed failed');
    }
  }
}
