import { describe, expect, it } from 'vitest';
import { StatusHub } from '../../src/status/index.js';
import type { StatusEvent } from '../../src/status/status-event.js';
import type { WsPeer } from '../../src/web/core/websocket.js';
import type { SseWriter } from '../../src/web/core/web-response.js';
import { streamSseWriter } from '../../src/web/fetch/stream-sse-writer.js';
import { streamStatus } from '../../src/web/routes/sse-stream.js';
import { StatusWsSession } from '../../src/web/routes/ws-session.js';
import { Sessions } from '../../src/web/sessions.js';
import { waitFor } from '../support/wait.js';
import { FakeStatusBackend, info } from '../status/fake-backend.js';

const encode = (event: StatusEvent): string => event.json;

/** A WsPeer the test drives: it sets bufferedAmount. */
class FakePeer implements WsPeer {
  open = true;
  bufferedAmount = 0;
  sent: Array<{ version: number; state: string }> = [];
  closeCode?: number;
  onClosed?: () => void;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code: number): void {
    if (!this.open) return;
    this.closeCode = code;
    this.open = false;
    this.onClosed?.();
  }
  terminate(): void {
    this.close(1006);
  }
  ping(): void {}
}

describe('WebSocket backpressure', () => {
  it('skips intermediate versions while the client is slow, but never the terminal one', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const peer = new FakePeer();
    peer.bufferedAmount = 1_000_000; // the client reads nothing
    const session = new StatusWsSession(peer, 't1', { hub, heartbeatMs: 60_000, track: () => () => {}, encode, log: () => {} });
    peer.onClosed = () => session.closed();
    await waitFor(() => fake.subscriptions === 1, 1000, 'subscribe');
    for (let v = 2; v <= 10; v++) fake.push(info(v));
    await new Promise((r) => setTimeout(r, 60));
    expect(peer.sent).toEqual([]);
    peer.bufferedAmount = 0; // caught up: gets the newest version, not the backlog
    await waitFor(() => peer.sent.length === 1, 1000, 'the latest version');
    expect(peer.sent[0]!.version).toBe(10);
    peer.bufferedAmount = 1_000_000;
    fake.push(info(11, 'SUCCESS'));
    await session.done;
    expect(peer.sent.map((m) => m.version)).toEqual([10, 11]);
    expect(peer.closeCode).toBe(1000);
    await hub.close();
  });
});

/** An SseWriter whose buffer is full while `full` is set. */
class FakeWriter implements SseWriter {
  full = true;
  closed = false;
  frames: string[] = [];
  private wake?: () => void;
  get backedUp(): boolean {
    return this.full;
  }
  write(chunk: string): void {
    this.frames.push(chunk);
  }
  drained(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
  drain(): void {
    this.full = false;
    this.wake?.();
  }
  onClose(): void {}
  end(): void {
    this.closed = true;
  }
}

describe('SSE backpressure', () => {
  it('waits for drain, then sends the newest version; the terminal one is never skipped', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const writer = new FakeWriter();
    const subscription = await hub.subscribe('t1');
    const streaming = streamStatus(writer, subscription, { heartbeatMs: 60_000, sessions: new Sessions(), encode });
    for (let v = 2; v <= 10; v++) fake.push(info(v));
    await new Promise((r) => setTimeout(r, 30));
    expect(writer.frames).toEqual([]);
    writer.drain();
    await waitFor(() => writer.frames.length === 1, 1000, 'the latest version');
    expect(writer.frames[0]).toMatch(/^id: 10\n/);
    writer.full = true;
    fake.push(info(11, 'SUCCESS'));
    await streaming;
    expect(writer.frames.map((f) => /^id: (\d+)/.exec(f)![1])).toEqual(['10', '11']);
    expect(writer.closed).toBe(true);
    await hub.close();
  });

  it('a Fetch ReadableStream writer backs up while nobody reads, and skips to the newest version', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const { writer, stream } = streamSseWriter();
    writer.write(`: ${'x'.repeat(70_000)}\n\n`); // over the 64 KiB queue: backed up until read
    expect(writer.backedUp).toBe(true);
    const subscription = await hub.subscribe('t1');
    const streaming = streamStatus(writer, subscription, { heartbeatMs: 60_000, sessions: new Sessions(), encode });
    for (let v = 2; v <= 10; v++) fake.push(info(v));
    await new Promise((r) => setTimeout(r, 30));
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const ids = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]);
    while (ids().length === 0) text += decoder.decode((await reader.read()).value); // the client reads: room again
    expect(ids()).toEqual(['10']); // the newest version, not the backlog
    fake.push(info(11, 'SUCCESS'));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await streaming;
    expect(ids()).toEqual(['10', '11']);
    expect(writer.closed).toBe(true);
    await hub.close();
  });
});
