import { processStats } from '../core/process-stats.js';
import { ClosedError, ConfigError } from '../core/errors.js';
import {
  DEFAULT_CAPACITY,
  DEFAULT_MAX_MESSAGE_BYTES,
  type ChannelLayer,
  type ChannelLayerOptions,
  type ChannelMessage,
  type ReceiveOptions,
} from './channel-layer.js';
import { encodeMessage } from './encode.js';
import { LocalRouter } from './local-router.js';
import { checkGroup, layerIdOf, makeChannelName, newLayerId } from './names.js';
import type { PubSub, PubSubHandlers } from '../pubsub/pubsub.js';

/**
 * How a layer names its topics on its broker's pub/sub (Redis channels,
 * PostgreSQL NOTIFY channels), and how it opens that pub/sub.
 */
export interface LayerTransport {
  /** The topic of a layer's inbox, and of a group. */
  inboxTopic(layerId: string): string;
  groupTopic(group: string): string;
  open(handlers: PubSubHandlers): PubSub;
}

/**
 * The channel layer over any PubSub (src/pubsub), which reconnects by
 * itself and listens again to every topic. Nothing is stored per group:
 * - each layer listens on its inbox topic; channel names carry the layer
 *   id, so send() publishes to the inbox of the process that reads it;
 * - group membership is kept in the process that reads the channels, which
 *   listens on the group's topic while it has a member; groupSend() is one
 *   publish, fanned out by the broker to those processes, then locally.
 * A process that dies takes its subscriptions with it: no expiry to tune.
 * Payloads: `{"c": channel, "m": message}` to an inbox, `{"g": group, "m": message}`
 * to a group (the name is checked on arrival, so hashed topics cannot mix groups).
 */
export class PubSubChannelLayer implements ChannelLayer {
  protected readonly id = newLayerId();
  private readonly router: LocalRouter;
  private readonly maxMessageBytes: number;
  private readonly transport: LayerTransport;
  private readonly pubsub: PubSub;
  /** Listening on the inbox; forgotten when it fails, so the next newChannel() tries again. */
  private inboxReady?: Promise<void>;
  /** (Un)listen calls per group, run one after another so they never cross. */
  private readonly syncs = new Map<string, Promise<void>>();
  private readonly listenedGroups = new Set<string>();
  private closed = false;

  constructor(options: ChannelLayerOptions, transport: LayerTransport) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.router = new LocalRouter(options.capacity ?? DEFAULT_CAPACITY, (groups) => {
      for (const group of groups) this.syncGroup(group).catch(() => undefined);
    });
    this.transport = transport;
    // at most once: what was published while the connection was down is lost, nothing to re-read
    this.pubsub = transport.open({ deliver: (topic, payload) => this.onMessage(topic, payload) });
    this.inbox().catch(() => undefined); // reported by the first newChannel()
  }

  async newChannel(prefix?: string): Promise<string> {
    this.assertOpen();
    await this.inbox();
    const channel = makeChannelName(this.id, prefix);
    this.router.create(channel);
    return channel;
  }

  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.assertOpen();
    processStats.channelSent++;
    const inbox = this.transport.inboxTopic(layerIdOf(channel));
    await this.pubsub.publish(inbox, `{"c":${JSON.stringify(channel)},"m":${encodeMessage(message, this.maxMessageBytes)}}`);
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.assertOpen();
    checkGroup(group);
    if (layerIdOf(channel) !== this.id) {
      throw new ConfigError(`channel "${channel}" is read by another process: add it to groups from there`);
    }
    this.router.add(group, channel);
    await this.syncGroup(group);
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    checkGroup(group);
    this.router.discard(group, channel);
    if (!this.closed) await this.syncGroup(group);
  }

  async groupSend(group: string, message: ChannelMessage): Promise<void> {
    this.assertOpen();
    processStats.channelSent++;
    checkGroup(group);
    const payload = `{"g":${JSON.stringify(group)},"m":${encodeMessage(message, this.maxMessageBytes)}}`;
    await this.pubsub.publish(this.transport.groupTopic(group), payload);
  }

  receive(channel: string, options?: ReceiveOptions): AsyncIterableIterator<ChannelMessage> {
    return this.router.receive(channel, options);
  }

  async closeChannel(channel: string): Promise<void> {
    this.router.closeChannel(channel);
  }

  /** Messages a channel's full buffer dropped so far. */
  dropped(channel: string): number {
    return this.router.dropped(channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.router.close();
    await Promise.allSettled([...this.syncs.values()]);
    await this.pubsub.close();
  }

  private inbox(): Promise<void> {
    this.inboxReady ??= this.pubsub.listen(this.transport.inboxTopic(this.id)).catch((error: unknown) => {
      this.inboxReady = undefined;
      throw error;
    });
    return this.inboxReady;
  }

  private onMessage(topic: string, payload: string): void {
    let decoded: unknown;
    try {
      decoded = JSON.parse(payload);
    } catch {
      return; // not ours: someone else published on our prefix
    }
    const { c, g, m } = (decoded ?? {}) as { c?: unknown; g?: unknown; m?: unknown };
    if (!isObject(m)) return;
    if (typeof c === 'string' && topic === this.transport.inboxTopic(this.id)) this.router.deliver(c, m);
    else if (typeof g === 'string' && this.listenedGroups.has(g) && topic === this.transport.groupTopic(g)) {
      this.router.deliverGroup(g, m);
    }
  }

  /** Brings the group's topic subscription in line with its local membership. */
  private syncGroup(group: string): Promise<void> {
    const previous = this.syncs.get(group) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const want = this.router.memberCount(group) > 0 && !this.closed;
        const has = this.listenedGroups.has(group);
        if (want && !has) {
          const topic = this.transport.groupTopic(group);
          try {
            await this.pubsub.listen(topic);
          } catch (error) {
            // the pub/sub would keep it and listen once it is back: the next groupAdd tries instead
            await this.pubsub.unlisten(topic).catch(() => undefined);
            throw error;
          }
          this.listenedGroups.add(group);
        } else if (!want && has) {
          this.listenedGroups.delete(group);
          if (!this.closed) await this.pubsub.unlisten(this.transport.groupTopic(group));
        }
      });
    this.syncs.set(group, next);
    const forget = (): void => {
      if (this.syncs.get(group) === next) this.syncs.delete(group);
    };
    next.then(forget, forget);
    return next;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('channel layer');
  }
}

function isObject(value: unknown): value is ChannelMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
