import net from 'node:net';
import { REDIS_PORT } from './config.js';

/**
 * Counts flushes to Redis sockets: calls of net.Socket's _write/_writev,
 * i.e. how many times a client hands the kernel a batch of commands. Writes
 * made while the socket is busy or corked travel together and count once,
 * so this is close to the number of request round trips a client starts.
 * Sockets marked with markAdmin (the harness's own) are left out.
 */
let flushes = 0;
const admin = new WeakSet<net.Socket>();
let installed = false;

export function installFlushCounter(): void {
  if (installed) return;
  installed = true;
  const proto = net.Socket.prototype as unknown as Record<
    '_write' | '_writev',
    (this: net.Socket, ...args: unknown[]) => unknown
  >;
  for (const method of ['_write', '_writev'] as const) {
    const original = proto[method];
    proto[method] = function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === REDIS_PORT && !admin.has(this)) flushes++;
      return original.apply(this, args);
    };
  }
}

export function flushCount(): number {
  return flushes;
}

export function markAdmin(socket: net.Socket | undefined): void {
  if (socket) admin.add(socket);
}
