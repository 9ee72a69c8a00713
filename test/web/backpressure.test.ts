import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { StatusHub } from '../../src/status/index.js';
import { Sessions } from '../../src/web/sessions.js';
import { streamStatus } from '../../src/web/sse-stream.js';
import { runWsSession } from '../../src/web/ws-session.js';
import { waitFor } from '../support/wait.js';
import { FakeStatusBackend, info } from '../status/fake-backend.js';

/** Just enough of a ws WebSocket to drive a session: the test sets bufferedAmount. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<{ version: number; state: string }> = [];
  closeCode?: number;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code: number): void {
    if (this.readyState !== 1) return;
    this.closeCode = code;
    this.readyState = 3;
    this.emit('close', code);
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
    const socket = new FakeSocket();
    socket.bufferedAmount = 1_000_000; // the client reads nothing
    const session = runWsSession(socket as unknown as WebSocket, 't1', { hub, heartbeatMs: 60_000, track: () => () => {} });
    await waitFor(() => fake.subscriptions === 1, 1000, 'subscribe');
    for (let v = 2; v <= 10; v++) fake.push(info(v));
    await new Promise((r) => setTimeout(r, 60));
    expect(socket.sent).toEqual([]);
    socket.bufferedAmount = 0; // caught up: gets the newest version, not the backlog
    await waitFor(() => socket.sent.length === 1, 1000, 'the latest version');
    expect(socket.sent[0]!.version).toBe(10);
    socket.bufferedAmount = 1_000_000;
    fake.push(info(11, 'SUCCESS'));
    await session;
    expect(socket.sent.map((m) => m.version)).toEqual([10, 11]);
    expect(socket.closeCode).toBe(1000);
    await hub.close();
  });
});

/** Just enough of a ServerResponse: write() reports a full buffer while `full` is set. */
class FakeResponse extends EventEmitter {
  full = true;
  writableEnded = false;
  destroyed = false;
  frames: string[] = [];
  get writableNeedDrain(): boolean {
    return this.full;
  }
  write(chunk: string): boolean {
    this.frames.push(chunk);
    return !this.full;
  }
  end(): void {
    this.writableEnded = true;
  }
}

describe('SSE backpressure', () => {
  it('waits for drain, then sends the newest version; the terminal one is never skipped', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const res = new FakeResponse();
    const subscription = await hub.subscribe('t1');
    const streaming = streamStatus(res as unknown as ServerResponse, subscription, {
      heartbeatMs: 60_000,
      sessions: new Sessions(),
    });
    for (let v = 2; v <= 10; v++) fake.push(info(v));
    await new Promise((r) => setTimeout(r, 30));
    expect(res.frames).toEqual([]);
    res.full = false;
    res.emit('drain');
    await waitFor(() => res.frames.length === 1, 1000, 'the latest version');
    expect(res.frames[0]).toMatch(/^id: 10\n/);
    res.full = true;
    fake.push(info(11, 'SUCCESS'));
    await streaming;
    expect(res.frames.map((f) => /^id: (\d+)/.exec(f)![1])).toEqual(['10', '11']);
    expect(res.writableEnded).toBe(true);
    await hub.close();
  });
});
