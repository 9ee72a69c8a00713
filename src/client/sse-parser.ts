export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * The text/event-stream format, fed chunk by chunk (the client reads SSE with
 * fetch rather than EventSource, to see status codes and send Last-Event-ID).
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id?: string;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  push(chunk: string): void {
    let text = this.buffer + chunk;
    // A trailing \r may be the first half of \r\n: hold it until the next chunk shows.
    const held = text.endsWith('\r') ? '\r' : '';
    if (held) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    this.buffer = (lines.pop() ?? '') + held;
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return; // a comment: heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }

  private dispatch(): void {
    if (this.data.length > 0) {
      const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.id !== undefined) message.id = this.id;
      this.onMessage(message);
    }
    this.data = [];
    this.event = '';
  }
}
