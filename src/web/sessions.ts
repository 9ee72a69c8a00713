/**
 * Open SSE streams and WebSockets of one plugin registration, ended when the
 * server closes. States: open → closing (closeAll ran: a session that starts
 * late, e.g. an upgrade already in flight, is ended as soon as it registers).
 */
export class Sessions {
  private readonly open = new Set<() => void>();
  private closing = false;

  get size(): number {
    return this.open.size;
  }

  /** Registers a session's closer; returns the function that forgets it. */
  add(close: () => void): () => void {
    if (this.closing) {
      queueMicrotask(close);
      return () => undefined;
    }
    this.open.add(close);
    return () => this.open.delete(close);
  }

  closeAll(): void {
    this.closing = true;
    for (const close of [...this.open]) close();
    this.open.clear();
  }
}
