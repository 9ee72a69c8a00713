import { processStats } from '../core/process-stats.js';
import { ClosedError } from '../core/errors.js';
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

/**
 * A channel layer inside one process: for tests, development and
 * single-process apps. Messages are JSON round-tripped, as on Redis, so code
 * that works here does not break on what JSON drops.
 */
export class MemoryChannelLayer implements ChannelLayer {
  private readonly id = newLayerId();
  private readonly router: LocalRouter;
  private readonly maxMessageBytes: number;
  private closed = false;

  constructor(options: ChannelLayerOptions = {}) {
    this.router = new LocalRouter(options.capacity ?? DEFAULT_CAPACITY, () => undefined);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  async newChannel(prefix?: string): Promise<string> {
    this.assertOpen();
    const channel = makeChannelName(this.id, prefix);
    this.router.create(channel);
    return channel;
  }

  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.assertOpen();
    processStats.channelSent++;
    layerIdOf(channel);
    this.router.deliver(channel, this.copy(message));
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.assertOpen();
    this.router.add(checkGroup(group), channel);
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.router.discard(checkGroup(group), channel);
  }

  async groupSend(group: string, message: ChannelMessage): Promise<void> {
    this.assertOpen();
    processStats.channelSent++;
    this.router.deliverGroup(checkGroup(group), this.copy(message));
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
    this.closed = true;
    this.router.close();
  }

  private copy(message: ChannelMessage): ChannelMessage {
    return JSON.parse(encodeMessage(message, this.maxMessageBytes)) as ChannelMessage;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('channel layer');
  }
}

export function createMemoryChannelLayer(options?: ChannelLayerOptions): MemoryChannelLayer {
  return new MemoryChannelLayer(options);
}
