import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../src/web/node/upgrade-dispatcher.js';
import { closePayload, encodeFrame, firstWsMessage, rawUpgrade, readUntilClosed } from '../fixtures/chaos-web/raw-ws.js';
import { startWebChild, type WebChild } from '../fixtures/chaos-web/web-child.js';

// Issue 6, fault 1: one malformed frame must not end the web process. The reference app's web
// process runs as a child (a crash is the child exiting); every frame here is hand-built on a raw
// socket, because no WebSocket library would send them.

interface HostileCase {
  name: string;
  bytes: () => Buffer;
  /** Send half of the bytes, then reset the TCP connection instead of waiting for the server. */
  reset?: boolean;
}

const text = (payload: Buffer | string, more: Partial<Parameters<typeof encodeFrame>[0]> = {}): Buffer =>
  encodeFrame({ opcode: 0x1, payload, ...more });
const close = (payload: Buffer, more: Partial<Parameters<typeof encodeFrame>[0]> = {}): Buffer =>
  encodeFrame({ opcode: 0x8, payload, ...more });

/** A fixed pseudo-random byte stream (xorshift), so a failure replays. */
function garbage(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x70 | (out[0]! & 0x8f); // RSV bits set: the first frame header is invalid whatever follows
  return out;
}

const CASES: HostileCase[] = [
  {
    name: 'text frame one byte over the max payload (16-bit length)',
    bytes: () => text(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61)),
  },
  {
    name: 'binary frame over the max payload with a 64-bit length header',
    bytes: () => encodeFrame({ opcode: 0x2, payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1), lengthForm: '64' }),
  },
  { name: 'declared length of 1 GiB, no payload', bytes: () => encodeFrame({ opcode: 0x2, length: 2n ** 30n }) },
  { name: 'declared 64-bit length above 2^53', bytes: () => encodeFrame({ opcode: 0x2, length: 2n ** 53n + 1n }) },
  { name: 'declared 64-bit length 2^64-1', bytes: () => encodeFrame({ opcode: 0x1, length: 2n ** 64n - 1n }) },
  ...[0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf].map((opcode) => ({
    name: `reserved opcode 0x${opcode.toString(16)}`,
    bytes: () => encodeFrame({ opcode, payload: 'x' }),
  })),
  { name: 'orphan continuation frame (FIN)', bytes: () => encodeFrame({ opcode: 0x0, payload: 'tail' }) },
  { name: 'orphan continuation frame (no FIN)', bytes: () => encodeFrame({ opcode: 0x0, payload: 'middle', fin: false }) },
  { name: 'a new text frame inside a fragmented message', bytes: () => Buffer.concat([text('a', { fin: false }), text('b')]) },
  {
    name: 'fragments adding up past the max payload',
    bytes: () =>
      Buffer.concat([
        text(Buffer.alloc(3000, 0x61), { fin: false }),
        encodeFrame({ opcode: 0x0, payload: Buffer.alloc(3000, 0x62), fin: false }),
      ]),
  },
  { name: 'unmasked text frame', bytes: () => text('hello', { mask: false }) },
  { name: 'unmasked close frame', bytes: () => close(closePayload(1000), { mask: false }) },
  { name: 'RSV1 set (no extension negotiated)', bytes: () => text('x', { rsv: 4 }) },
  { name: 'RSV2 set', bytes: () => text('x', { rsv: 2 }) },
  { name: 'RSV3 set', bytes: () => text('x', { rsv: 1 }) },
  ...[999, 1004, 1005, 1006, 1015, 2999, 5000, 65535].map((code) => ({
    name: `close frame with code ${code}`,
    bytes: () => close(closePayload(code, 'bye')),
  })),
  { name: 'close frame with a 1-byte payload', bytes: () => close(Buffer.from([0x03])) },
  {
    name: 'close frame with an invalid UTF-8 reason',
    bytes: () => close(Buffer.concat([closePayload(1000), Buffer.from([0xff, 0xfe])])),
  },
  { name: 'close frame with a 126-byte payload', bytes: () => close(closePayload(1000, 'r'.repeat(124))) },
  { name: 'fragmented ping (control frame without FIN)', bytes: () => encodeFrame({ opcode: 0x9, payload: 'p', fin: false }) },
  { name: 'fragmented close', bytes: () => close(closePayload(1000), { fin: false }) },
  { name: 'ping with a 126-byte payload', bytes: () => encodeFrame({ opcode: 0x9, payload: Buffer.alloc(126) }) },
  { name: 'text frame with invalid UTF-8', bytes: () => text(Buffer.from([0xc3, 0x28, 0xff])) },
  { name: 'random garbage after the handshake (seed 1)', bytes: () => garbage(1, 512) },
  { name: 'random garbage after the handshake (seed 2)', bytes: () => garbage(0xdeadbeef, 8192) },
  { name: 'an HTTP request after the handshake', bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
  {
    name: 'half of a frame, then a TCP reset',
    bytes: () => text(Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61)).subarray(0, 100),
    reset: true,
  },
];

/** Close codes a server may answer a protocol violation with (4400: errand was already refusing a bad id). */
const CLEAN_CODES = [1002, 1007, 1009, 4400];

let web: WebChild;
let taskId: string;

beforeAll(async () => {
  web = await startWebChild();
  taskId = await web.enqueue();
}, 60_000);

afterAll(async () => {
  if (!web) return;
  const wasAlive = web.alive();
  const code = await web.stop();
  expect(wasAlive, web.child.output()).toBe(true);
  expect(code, web.child.output()).toBe(0); // and it still shuts down cleanly
}, 30_000);

async function expectServerUp(prefix: string): Promise<void> {
  expect(web.alive(), `the web process exited:\n${web.child.output()}`).toBe(true);
  const res = await fetch(`${web.base}${prefix}/task_status/?task_id=${taskId}`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ state: 'PENDING', version: 1 });
  expect(await firstWsMessage(web.port, `${prefix}/ws/task_status/${taskId}/`)).toMatchObject({ state: 'PENDING', version: 1 });
}

const PATHS = [
  { label: 'valid task id', prefix: '', path: () => `/ws/task_status/${taskId}/` },
  { label: 'bad task id', prefix: '', path: () => '/ws/task_status/not-a-uuid/' },
  { label: '/users, valid task id', prefix: '/users', path: () => `/users/ws/task_status/${taskId}/` },
  { label: '/users, bad task id', prefix: '/users', path: () => '/users/ws/task_status/not-a-uuid/' },
];

describe.each(PATHS)('hostile frames on a WebSocket ($label)', ({ prefix, path }) => {
  it.each(CASES)('$name: the connection ends, the server stays up', async ({ bytes, reset }) => {
    const { socket, head, rest } = await rawUpgrade(web.port, path());
    expect(head.status, head.raw).toBe(101);
    const frame = bytes();
    if (reset) {
      socket.write(frame);
      await new Promise<void>((resolve) => socket.write(Buffer.alloc(0), () => resolve()));
      socket.resetAndDestroy();
    } else {
      socket.write(frame);
      const ending = await readUntilClosed(socket, rest);
      expect(ending.closed, 'the server should drop a connection that broke the protocol').toBe(true);
      if (ending.closeCode !== undefined) expect(CLEAN_CODES).toContain(ending.closeCode);
    }
    await expectServerUp(prefix);
  });
});

describe('after all of it', () => {
  it('the web process is still the one that started', async () => {
    await expectServerUp('');
    await expectServerUp('/users');
  });
});
