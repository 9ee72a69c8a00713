import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError, ClosedError } from '../../../src/index.js';
import type { DeliveryMeta, PubSub, PubSubHandlers } from '../../../src/pubsub/pubsub.js';
import { waitFor } from '../../support/wait.js';
import { closedPort, type Namespace, type PubSubTarget } from './targets.js';

interface Heard {
  topic: string;
  payload: string;
  meta: DeliveryMeta;
}

/** A pub/sub and what it was told. */
interface Peer {
  pubsub: PubSub;
  heard: Heard[];
  payloads(topic?: string): string[];
  reconnects(): number;
}

/**
 * The contract of the pub/sub seam (src/pubsub/pubsub.ts), the same for
 * every broker: each test gets a namespace of its own and closes what it
 * opened. Nothing is timed: conditions are polled until a deadline.
 */
export function describePubSubContract(target: PubSubTarget): void {
  target.describe(target.name, () =>
    describe(`pub/sub contract: ${target.name}`, () => {
      const opened: PubSub[] = [];
      afterEach(async () => {
        for (const pubsub of opened.splice(0)) await pubsub.close();
      });

      function record(make: (handlers: PubSubHandlers) => PubSub): Peer {
        const heard: Heard[] = [];
        let reconnects = 0;
        const pubsub = make({
          deliver: (topic, payload, meta) => heard.push({ topic, payload, meta }),
          onReconnect: () => reconnects++,
        });
        opened.push(pubsub);
        return {
          pubsub,
          heard,
          payloads: (topic) => heard.filter((h) => topic === undefined || h.topic === topic).map((h) => h.payload),
          reconnects: () => reconnects,
        };
      }
      const peer = (ns: Namespace): Peer => record((handlers) => ns.open(handlers));
      const hears = (p: Peer, topic: string, payload: string, what = `"${payload}" on ${topic}`) =>
        waitFor(() => p.heard.some((h) => h.topic === topic && h.payload === payload), 10_000, what);

      it('listen then publish delivers, to another instance and to the publisher itself', async () => {
        const ns = await target.namespace();
        const [a, b] = [peer(ns), peer(ns)];
        const topic = ns.topic('greetings');
        await b.pubsub.listen(topic);
        await a.pubsub.publish(topic, 'hello');
        await hears(b, topic, 'hello');
        await b.pubsub.publish(topic, 'myself');
        await hears(b, topic, 'myself');
        expect(b.payloads()).toEqual(['hello', 'myself']);
        if (target.reportsSender) {
          const [fromA, fromB] = b.heard.map((h) => h.meta.senderPid);
          expect(typeof fromA).toBe('number');
          expect(typeof fromB).toBe('number');
        }
        expect(a.heard).toEqual([]);
      });

      it('unlisten stops delivery', async () => {
        const ns = await target.namespace();
        const [a, b] = [peer(ns), peer(ns)];
        const [gone, kept] = [ns.topic('gone', true), ns.topic('kept', true)];
        await b.pubsub.listen(gone);
        await b.pubsub.listen(kept);
        await a.pubsub.publish(gone, 'before');
        await hears(b, gone, 'before');
        await b.pubsub.unlisten(gone);
        await a.pubsub.publish(gone, 'after');
        // one publisher, one shard: once the later marker is here, "after" would have been too
        await a.pubsub.publish(kept, 'marker');
        await hears(b, kept, 'marker');
        expect(b.payloads(gone)).toEqual(['before']);
        await b.pubsub.unlisten('never-listened'); // nothing to do
      });

      it('many topics share one connection (per server node)', async () => {
        const ns = await target.namespace();
        const [a, b] = [peer(ns), peer(ns)];
        const topics = Array.from({ length: 20 }, (_, i) => ns.topic(`many${i}`));
        await Promise.all(topics.map((topic) => b.pubsub.listen(topic)));
        for (const topic of topics) await a.pubsub.publish(topic, `to ${topic}`);
        await waitFor(() => b.heard.length === topics.length, 10_000, 'a message on every topic');
        for (const topic of topics) expect(b.payloads(topic)).toEqual([`to ${topic}`]);
        if (ns.listenerConnections) {
          const perNode = await ns.listenerConnections();
          expect(perNode.every((n) => n <= 1)).toBe(true);
          expect(perNode.some((n) => n === 1)).toBe(true);
        }
      });

      it('listening twice is one listen: one delivery per message, and one unlisten ends it', async () => {
        const ns = await target.namespace();
        const [a, b] = [peer(ns), peer(ns)];
        const [twice, marker] = [ns.topic('twice', true), ns.topic('marker', true)];
        await b.pubsub.listen(twice);
        await Promise.all([b.pubsub.listen(twice), b.pubsub.listen(twice)]);
        await b.pubsub.listen(marker);
        await a.pubsub.publish(twice, 'once');
        await a.pubsub.publish(twice, 'end');
        await hears(b, twice, 'end');
        expect(b.payloads(twice)).toEqual(['once', 'end']);
        await b.pubsub.unlisten(twice);
        await a.pubsub.publish(twice, 'after');
        await a.pubsub.publish(marker, 'marker');
        await hears(b, marker, 'marker');
        expect(b.payloads(twice)).toEqual(['once', 'end']);
      });

      it('payloads of any size arrive whole, in the order one publisher sent them', async () => {
        const ns = await target.namespace();
        const [a, b] = [peer(ns), peer(ns)];
        const topic = ns.topic('sizes');
        await b.pubsub.listen(topic);
        // over NOTIFY's 8000 bytes, small ones between, and one that looks like an overflow reference
        const sent = ['x'.repeat(50_000) + '1', '2', `{"r":1}`, 'é'.repeat(5000) + '4', '5', 'z'.repeat(9000) + '6'];
        for (const payload of sent) await a.pubsub.publish(topic, payload);
        await waitFor(() => b.heard.length === sent.length, 10_000, 'every payload');
        expect(b.payloads(topic)).toEqual(sent);
      });

      it('close() is idempotent, and calls after it throw ClosedError', async () => {
        const ns = await target.namespace();
        const a = peer(ns);
        const topic = ns.topic('closing');
        await a.pubsub.listen(topic);
        await a.pubsub.publish(topic, 'x');
        await Promise.all([a.pubsub.close(), a.pubsub.close()]);
        await a.pubsub.close();
        await expect(a.pubsub.publish(topic, 'y')).rejects.toBeInstanceOf(ClosedError);
        await expect(a.pubsub.listen(topic)).rejects.toBeInstanceOf(ClosedError);
        await a.pubsub.unlisten(topic); // nothing to do
      });

      it.runIf(target.name !== 'memory')(
        'a killed listening connection reconnects, listens to every topic again, calls onReconnect once, and later messages arrive',
        async () => {
          const ns = await target.namespace();
          const [a, b] = [peer(ns), peer(ns)];
          const topics = ['one', 'two', 'three'].map((name) => ns.topic(name, true));
          for (const topic of topics) await b.pubsub.listen(topic);
          await a.pubsub.publish(topics[0]!, 'before');
          await hears(b, topics[0]!, 'before');
          expect(await ns.killListeners!()).toBe(1);
          await waitFor(() => b.reconnects() > 0, 15_000, 'onReconnect');
          // once each topic hears a publish (what was sent before the subscription was back may be lost)
          for (const topic of topics) {
            await waitFor(
              async () => {
                await a.pubsub.publish(topic, 'after');
                return b.payloads(topic).includes('after');
              },
              10_000,
              `a message on ${topic} after the reconnect`,
            );
          }
          expect(b.reconnects()).toBe(1);
          expect(await ns.listenerConnections!()).toContain(1);
        },
        40_000,
      );

      it.runIf(target.unreachable !== undefined)(
        'a connection that cannot be made: BrokerError from listen and publish, and no unhandled error event',
        async () => {
          const port = await closedPort();
          const p = record((handlers) => target.unreachable!(port, handlers));
          await expect(p.pubsub.listen('unreachable')).rejects.toBeInstanceOf(BrokerError);
          await expect(p.pubsub.publish('unreachable', 'x')).rejects.toBeInstanceOf(BrokerError);
          // while the reconnect rule waits, listen fails too (at once or after the next attempt)
          await expect(p.pubsub.listen('unreachable')).rejects.toBeInstanceOf(BrokerError);
          await p.pubsub.close();
          expect(p.reconnects()).toBe(0);
        },
        20_000,
      );
    }),
  );
}
