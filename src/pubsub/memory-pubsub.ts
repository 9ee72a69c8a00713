import { ClosedError } from '../core/errors.js';
import type { PubSub, PubSubHandlers } from './pubsub.js';

/** The topics of one process: every MemoryPubSub on a hub hears what the others publish. */
export class MemoryPubSubHub {
  private readonly listeners = new Map<string, Set<MemoryPubSub>>();

  add(topic: string, pubsub: MemoryPubSub): void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(pubsub);
  }

  remove(topic: string, pubsub: MemoryPubSub): void {
    const set = this.listeners.get(topic);
    if (!set?.delete(pubsub)) return;
    if (set.size === 0) this.listeners.delete(topic);
  }

  /** The instances listening on `topic` now: a message goes to those, not to who listens later. */
  listenersOf(topic: string): MemoryPubSub[] {
    return [...(this.listeners.get(topic) ?? [])];
  }
}

/**
 * Pub/sub inside one process. Delivery is asynchronous (a microtask), as
 * over a network, so a publisher never runs its listeners' code inside its
 * own call; microtasks run in order, which keeps order per topic. No
 * connection, so nothing to reconnect and no payload limit.
 */
export class MemoryPubSub implements PubSub {
  private readonly topics = new Set<string>();
  private closed = false;

  constructor(
    private readonly hub: MemoryPubSubHub,
    private readonly handlers: PubSubHandlers,
  ) {}

  async listen(topic: string): Promise<void> {
    this.assertOpen();
    this.topics.add(topic);
    this.hub.add(topic, this);
  }

  async unlisten(topic: string): Promise<void> {
    this.topics.delete(topic);
    this.hub.remove(topic, this);
  }

  async publish(topic: string, payload: string): Promise<void> {
    this.assertOpen();
    for (const pubsub of this.hub.listenersOf(topic)) queueMicrotask(() => pubsub.receive(topic, payload));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const topic of this.topics) this.hub.remove(topic, this);
    this.topics.clear();
  }

  /** Delivered only while still listening: an unlisten between publish and delivery wins. */
  private receive(topic: string, payload: string): void {
    if (this.topics.has(topic)) this.handlers.deliver(topic, payload, {});
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('pub/sub');
  }
}
