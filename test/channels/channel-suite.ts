import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelLayer, ChannelMessage } from '../../src/channels/index.js';
import { ClosedError, ConfigError, SerializationError } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

export interface LayerTarget {
  name: string;
  /** A layer, and a peer on the same backplane ("another process"; the same instance for memory). */
  open(options?: { capacity?: number }): Promise<{ a: ChannelLayer & { dropped(channel: string): number }; b: ChannelLayer }>;
}

/** Reads `n` messages from a channel, or fails after `timeoutMs`. */
export async function take(iterator: AsyncIterator<ChannelMessage>, n: number, timeoutMs = 5000): Promise<ChannelMessage[]> {
  const out: ChannelMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`got ${out.length} of ${n} messages`)), timeoutMs);
  });
  try {
    while (out.length < n) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) break;
      out.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Nothing arrives on the channel within `ms`. */
async function nothingWithin(iterator: AsyncIterator<ChannelMessage>, ms = 150): Promise<boolean> {
  const result = await Promise.race([
    iterator.next().then(() => 'message'),
    new Promise((r) => setTimeout(() => r('quiet'), ms)),
  ]);
  return result === 'quiet';
}

export function describeChannelLayer(target: LayerTarget): void {
  describe(`channel layer: ${target.name}`, () => {
    const layers: ChannelLayer[] = [];
    afterEach(async () => {
      for (const layer of layers.splice(0)) await layer.close();
    });
    const open = async (options?: { capacity?: number }) => {
      const pair = await target.open(options);
      layers.push(pair.a, pair.b);
      return pair;
    };

    it('makes unguessable channel names, with an optional prefix', async () => {
      const { a } = await open();
      const names = await Promise.all(Array.from({ length: 50 }, () => a.newChannel()));
      expect(new Set(names).size).toBe(50);
      expect(names[0]).toMatch(/^specific\.[\w-]+![\w-]{22,}$/);
      expect(await a.newChannel('chat')).toMatch(/^chat\./);
      await expect(a.newChannel('bad prefix!')).rejects.toBeInstanceOf(ConfigError);
    });

    it('delivers send() to one channel in order, from this or another process', async () => {
      const { a, b } = await open();
      const channel = await a.newChannel();
      const inbox = a.receive(channel);
      for (let i = 0; i < 100; i++) await b.send(channel, { i });
      expect((await take(inbox, 100)).map((m) => m.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });

    it("groupSend reaches every member in every process, in the sender's order", async () => {
      const { a, b } = await open({ capacity: 1000 }); // read after sending all: nothing may be dropped
      const [c1, c2, c3] = [await a.newChannel(), await a.newChannel(), await b.newChannel()];
      await a.groupAdd('room.1', c1);
      await a.groupAdd('room.1', c2);
      await b.groupAdd('room.1', c3);
      const inboxes = [a.receive(c1), a.receive(c2), b.receive(c3)];
      for (let i = 0; i < 200; i++) await a.groupSend('room.1', { i, text: 'hello' });
      for (const inbox of inboxes) {
        expect((await take(inbox, 200)).map((m) => m.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      }
    });

    it('groupDiscard and ending the reader take a channel out of its groups', async () => {
      const { a, b } = await open();
      const [left, stays, reader] = [await a.newChannel(), await a.newChannel(), await a.newChannel()];
      for (const channel of [left, stays, reader]) await a.groupAdd('g', channel);
      await a.groupDiscard('g', left);
      const leftInbox = a.receive(left);
      const readerInbox = a.receive(reader);
      await b.groupSend('g', { n: 1 });
      expect(await take(readerInbox, 1)).toEqual([{ n: 1 }]);
      await readerInbox.return!(undefined); // the consumer went away: its channel is closed
      await b.groupSend('g', { n: 2 });
      expect(await take(a.receive(stays), 2)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(await nothingWithin(leftInbox)).toBe(true);
      await b.send(reader, { n: 3 }); // a closed channel: dropped, no error
      expect(() => a.receive(reader)).toThrow(ConfigError);
    });

    it('keeps a bounded buffer per channel: a slow reader loses the oldest messages', async () => {
      const { a } = await open({ capacity: 5 });
      const channel = await a.newChannel();
      for (let i = 1; i <= 10; i++) await a.send(channel, { i });
      await waitFor(() => a.dropped(channel) === 5, 5000, 'five drops');
      expect((await take(a.receive(channel), 5)).map((m) => m.i)).toEqual([6, 7, 8, 9, 10]);
    });

    it('sends JSON copies and refuses what is not a JSON object', async () => {
      const { a } = await open();
      const channel = await a.newChannel();
      const original = { nested: { list: [1, 2] } };
      await a.send(channel, original);
      const [copy] = await take(a.receive(channel), 1);
      expect(copy).toEqual(original);
      expect(copy).not.toBe(original);
      await expect(a.send(channel, [1] as unknown as ChannelMessage)).rejects.toBeInstanceOf(ConfigError);
      await expect(a.send(channel, { when: new Date() } as unknown as ChannelMessage)).rejects.toBeInstanceOf(SerializationError);
      await expect(a.groupSend('bad group', { x: 1 })).rejects.toBeInstanceOf(ConfigError);
      await expect(a.send('not-a-channel', { x: 1 })).rejects.toBeInstanceOf(ConfigError);
    });

    it('ends a reader on abort, allows one reader per channel, and refuses use after close()', async () => {
      const { a } = await open();
      const channel = await a.newChannel();
      const controller = new AbortController();
      const inbox = a.receive(channel, { signal: controller.signal });
      expect(() => a.receive(channel)).toThrow(/already has a reader/);
      const next = inbox.next();
      controller.abort();
      expect(await next).toEqual({ done: true, value: undefined });
      await a.close();
      await expect(a.newChannel()).rejects.toBeInstanceOf(ClosedError);
      await expect(a.groupSend('g', { x: 1 })).rejects.toBeInstanceOf(ClosedError);
    });
  });
}
