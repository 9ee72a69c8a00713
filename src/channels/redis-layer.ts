import { Redis } from 'ioredis';
import { BrokerError, ClosedError, ConfigError } from '../core/errors.js';
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

export interface RedisChannelLayerOptions extends ChannelLayerOptions {
  /** redis://host:port/db */
  url: string;
  /** Prefix of every Redis pub/sub channel the layer uses (default 'errand:channels'). */
  prefix?: string;
}

/**
 * A channel layer shared by processes through Redis pub/sub. Nothing is
 * stored in Redis:
 * - each layer instance SUBSCRIBEs to its inbox `<prefix>:inbox:<layerId>`;
 *   channel names carry the layer id, so send() PUBLISHes to the right inbox;
 * - group membership is kept in the process that reads the channels, which
 *   SUBSCRIBEs to `<prefix>:group:<group>` while it has a member; groupSend()
 *   is one PUBLISH, fanned out by Redis to those processes, then locally.
 * When a process dies its connection closes and Redis forgets its
 * subscriptions: membership cleans itself up with no expiry to tune.
 */
export class RedisChannelLayer implements ChannelLayer {
  private readonly id = newLayerId();
  private readonly router: LocalRouter;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly maxMessageBytes: number;
  private readonly inboxReady: Promise<unknown>;
  /** Redis (un)subscribe calls per group, run one after another so they never cross. */
  private readonly syncs = new Map<string, Promise<void>>();
  private readonly subscribedGroups = new Set<string>();
  private closed = false;

  constructor(options: RedisChannelLayerOptions) {
    if (!options.url) throw new ConfigError('createRedisChannelLayer needs a url');
    this.prefix = options.prefix ?? 'errand:channels';
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.router = new LocalRouter(options.capacity ?? DEFAULT_CAPACITY, (groups) => {
      for (const group of groups) this.syncGroup(group).catch(() => undefined);
    });
    this.pub = new Redis(options.url, { maxRetriesPerRequest: 3 });
    this.sub = this.pub.duplicate();
    // ioredis reconnects by itself; without a listener it would print every error.
    this.pub.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.sub.on('message', (redisChannel: string, payload: string) => this.onMessage(redisChannel, payload));
    this.inboxReady = this.sub.subscribe(this.inboxKey(this.id));
    this.inboxReady.catch(() => undefined); // reported by the first newChannel()
  }

  async newChannel(prefix?: string): Promise<string> {
    this.assertOpen();
    await this.redis(this.inboxReady);
    const channel = makeChannelName(this.id, prefix);
    this.router.create(channel);
    return channel;
  }

  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.assertOpen();
    const layerId = layerIdOf(channel);
    const body = `{"c":${JSON.stringify(channel)},"m":${encodeMessage(message, this.maxMessageBytes)}}`;
    await this.redis(this.pub.publish(this.inboxKey(layerId), body));
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
    checkGroup(group);
    await this.redis(this.pub.publish(this.groupKey(group), encodeMessage(message, this.maxMessageBytes)));
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
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
    this.sub.disconnect();
    this.pub.disconnect();
  }

  private onMessage(redisChannel: string, payload: string): void {
    let decoded: unknown;
    try {
      decoded = JSON.parse(payload);
    } catch {
      return; // not ours: someone else published on our prefix
    }
    if (redisChannel === this.inboxKey(this.id)) {
      const { c, m } = decoded as { c?: unknown; m?: unknown };
      if (typeof c === 'string' && isObject(m)) this.router.deliver(c, m);
      return;
    }
    const groupPrefix = `${this.prefix}:group:`;
    if (redisChannel.startsWith(groupPrefix) && isObject(decoded)) {
      this.router.deliverGroup(redisChannel.slice(groupPrefix.length), decoded);
    }
  }

  /** Brings the Redis subscription of `group` in line with its local membership. */
  private syncGroup(group: string): Promise<void> {
    const previous = this.syncs.get(group) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const want = this.router.memberCount(group) > 0 && !this.closed;
        const has = this.subscribedGroups.has(group);
        if (want && !has) {
          await this.redis(this.sub.subscribe(this.groupKey(group)));
          this.subscribedGroups.add(group);
        } else if (!want && has) {
          this.subscribedGroups.delete(group);
          if (!this.closed) await this.redis(this.sub.unsubscribe(this.groupKey(group)));
        }
      });
    this.syncs.set(group, next);
    const forget = (): void => {
      if (this.syncs.get(group) === next) this.syncs.delete(group);
    };
    next.then(forget, forget);
    return next;
  }

  private inboxKey(layerId: string): string {
    return `${this.prefix}:inbox:${layerId}`;
  }

  private groupKey(group: string): string {
    return `${this.prefix}:group:${group}`;
  }

  /** Turns ioredis failures into BrokerError. */
  private async redis<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      throw new BrokerError(`redis channel layer: ${(error as Error).message}`, { cause: error });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('channel layer');
  }
}

function isObject(value: unknown): value is ChannelMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createRedisChannelLayer(options: RedisChannelLayerOptions): RedisChannelLayer {
  return new RedisChannelLayer(options);
}
