import type { JsonValue } from '../core/types.js';

/** What travels on a channel: a JSON object (it is encoded with JSON, so keep it plain data). */
export type ChannelMessage = { [key: string]: JsonValue };

export interface ReceiveOptions {
  /** Aborting ends the iteration and closes the channel. */
  signal?: AbortSignal;
}

/**
 * A channel layer, as in Django Channels: named mailboxes (channels) and
 * named sets of channels (groups). See docs/channels.md for the guarantees:
 * at-most-once delivery, per-group order from one sender, and a bounded
 * buffer per channel that drops its oldest message when full.
 *
 * Receiving is an async iterator, and a channel lives as long as its reader:
 * ending the `for await` (break, return, throw or the signal) closes the
 * channel and removes it from every group.
 */
export interface ChannelLayer {
  /** Creates a channel that this layer reads; returns its unguessable name. */
  newChannel(prefix?: string): Promise<string>;
  /** Sends to one channel; a message to a channel nobody reads is dropped. */
  send(channel: string, message: ChannelMessage): Promise<void>;
  /** Adds one of this layer's channels to a group; resolves once group sends reach it. */
  groupAdd(group: string, channel: string): Promise<void>;
  groupDiscard(group: string, channel: string): Promise<void>;
  /** Sends to every channel in the group, in every process. */
  groupSend(group: string, message: ChannelMessage): Promise<void>;
  /** The channel's messages, oldest first, until the channel is closed. One reader per channel. */
  receive(channel: string, options?: ReceiveOptions): AsyncIterableIterator<ChannelMessage>;
  /** Closes one of this layer's channels: its reader ends, and it leaves every group. */
  closeChannel(channel: string): Promise<void>;
  /** Closes every channel and the connections the layer opened. */
  close(): Promise<void>;
}

export interface ChannelLayerOptions {
  /** Messages buffered per channel before the oldest is dropped (default 100). */
  capacity?: number;
  /** Largest encoded message, in bytes (default 256 KiB). */
  maxMessageBytes?: number;
}

export const DEFAULT_CAPACITY = 100;
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;
