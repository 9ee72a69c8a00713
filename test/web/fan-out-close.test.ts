import { describe, expect, it } from 'vitest';
import { StatusHub, type StatusEvent } from '../../src/status/index.js';
import type { WsPeer } from '../../src/web/core/websocket.js';
import { StatusWsSession } from '../../src/web/routes/ws-session.js';
import { waitFor } from '../support/wait.js';
import { FakeStatusBackend, info } from '../status/fake-backend.js';

/** More than one fan-out slice (500 subscribers per event-loop turn). */
const SUBSCRIBERS = 1_200;

describe('large fan-out of a terminal update', () => {
  it('runs the work held with afterFanOut only once every subscriber has the version', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const subscriptions = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => hub.subscribe('t1')));
    for (const s of subscriptions) await s.next(); // the snapshot (PENDING)
    const log: string[] = [];
    const readers = subscriptions.map(async (s, i) => {
      const event = (await s.next())!;
      log.push(`got ${i}`);
      event.afterFanOut(() => log.push(`held ${i}`));
      return event;
    });
    fake.push(info(2, 'SUCCESS'));
    const events = await Promise.all(readers);
    await waitFor(() => log.length === 2 * SUBSCRIBERS, 2000, 'every held task');
    const lastGot = log.map((l) => l.startsWith('got')).lastIndexOf(true);
    const heldBeforeLastGot = log.slice(0, lastGot).filter((l) => l.startsWith('held'));
    // Only the last slice's readers find the fan-out over (their task runs at once): nobody waits on them.
    expect(heldBeforeLastGot.length).toBeLessThanOrEqual(500);
    expect(new Set(events).size).toBe(1);
    expect(events[0]!.fanningOut).toBe(false);
    await hub.close();
  });

  it('a WebSocket session sends the terminal update at once and closes with 1000 once all sockets have it', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const ops: string[] = [];
    const peers = Array.from({ length: SUBSCRIBERS }, (_, i) => new LoggingPeer(i, ops));
    const encode = (event: StatusEvent): string => event.json;
    const sessions = peers.map((peer) => {
      const session = new StatusWsSession(peer, 't1', {
        hub,
        heartbeatMs: 60_000,
        track: () => () => {},
        encode,
        log: () => {},
      });
      peer.onClosed = () => session.closed();
      return session;
    });
    await waitFor(() => peers.every((p) => p.sent.length === 1), 2000, 'every snapshot');
    fake.push(info(2, 'SUCCESS'));
    await Promise.all(sessions.map((s) => s.done));
    for (const peer of peers) {
      expect(peer.sent.map((m) => m.state)).toEqual(['PENDING', 'SUCCESS']);
      expect(peer.closeCode).toBe(1000);
    }
    // No close before the last terminal update, except the last slice's own (update and close together).
    const lastSend = ops.lastIndexOf('send SUCCESS');
    expect(ops.slice(0, lastSend).filter((op) => op === 'close').length).toBeLessThanOrEqual(500);
    await hub.close();
  });

  it('paces the deliveries of several tasks together: every terminal update goes out before their closes', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const ops: string[] = [];
    const encode = (event: StatusEvent): string => event.json;
    // Two tasks of 700 sockets; the fake broker pushes one update to both feeds in the same turn.
    const peers = Array.from({ length: 1_400 }, (_, i) => new LoggingPeer(i, ops));
    const sessions = peers.map((peer, i) => {
      const session = new StatusWsSession(peer, i % 2 ? 'a' : 'b', {
        hub,
        heartbeatMs: 60_000,
        track: () => () => {},
        encode,
        log: () => {},
      });
      peer.onClosed = () => session.closed();
      return session;
    });
    await waitFor(() => peers.every((p) => p.sent.length === 1), 2000, 'every snapshot');
    expect(hub.size).toBe(2);
    fake.push(info(2, 'SUCCESS'));
    await Promise.all(sessions.map((s) => s.done));
    for (const peer of peers) expect(peer.closeCode).toBe(1000);
    const lastSend = ops.lastIndexOf('send SUCCESS');
    expect(ops.slice(0, lastSend).filter((op) => op === 'close').length).toBeLessThanOrEqual(500);
    await hub.close();
  });

  it('a new subscriber has the current state when subscribe resolves, even with deliveries queued ahead', async () => {
    const fake = new FakeStatusBackend();
    const hub = new StatusHub(fake.asBackend());
    const many = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => hub.subscribe('a')));
    fake.snapshot = info(2);
    fake.push(info(2)); // 500 offers now, the rest in later turns
    const late = await hub.subscribe('b');
    expect(late.poll()?.version).toBe(2);
    await waitFor(() => many.every((s) => s.poll()?.version === 2), 2000, 'the queued offers');
    await hub.close();
  });
});

class LoggingPeer implements WsPeer {
  open = true;
  bufferedAmount = 0;
  sent: Array<{ version: number; state: string }> = [];
  closeCode?: number;
  onClosed?: () => void;
  constructor(
    readonly index: number,
    private readonly ops: string[],
  ) {}
  send(data: string): void {
    const message = JSON.parse(data) as { version: number; state: string };
    this.sent.push(message);
    this.ops.push(`send ${message.state}`);
  }
  close(code: number): void {
    if (!this.open) return;
    this.ops.push('close');
    this.closeCode = code;
    this.open = false;
    this.onClosed?.();
  }
  terminate(): void {
    this.close(1006);
  }
  ping(): void {}
}
