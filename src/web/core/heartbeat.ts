import type { WsPeer } from './websocket.js';

/**
 * Pings a WebSocket every `intervalMs` and terminates it when the previous
 * ping got no pong: a client that stopped answering is gone (half-open TCP).
 * Adapters without ping (none today) get no heartbeat.
 */
export class Heartbeat {
  private alive = true;
  private readonly timer?: NodeJS.Timeout;

  constructor(peer: WsPeer, intervalMs: number) {
    const ping = peer.ping?.bind(peer);
    if (!ping) return;
    this.timer = setInterval(() => {
      if (!peer.open) return;
      if (!this.alive) return peer.terminate();
      this.alive = false;
      ping();
    }, intervalMs);
  }

  pong(): void {
    this.alive = true;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
