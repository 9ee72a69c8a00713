import { processStats } from '../core/process-stats.js';
import { ClosedError, ConfigError } from '../core/errors.js';
import type { ChannelMessage, ReceiveOptions } from './channel-layer.js';
import { Mailbox } from './mailbox.js';

/**
 * The channels one layer instance reads and the groups they are in. Both
 * layers use it: the memory layer delivers into it directly, the Redis layer
 * after a message comes back from Redis pub/sub.
 */
export class LocalRouter {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly members = new Map<string, Set<string>>();
  private readonly groupsOf = new Map<string, Set<string>>();
  private closed = false;

  constructor(
    private readonly capacity: number,
    /** Called when a channel closes, with the groups it left that are now empty. */
    private readonly onGroupsEmptied: (groups: string[]) => void,
  ) {}

  has(channel: string): boolean {
    return this.mailboxes.has(channel);
  }

  /** Local member count of a group. */
  memberCount(group: string): number {
    return this.members.get(group)?.size ?? 0;
  }

  /** Messages dropped from a channel's full buffer. */
  dropped(channel: string): number {
    return this.mailboxes.get(channel)?.dropped ?? 0;
  }

  create(channel: string): void {
    if (this.closed) throw new ClosedError('channel layer');
    this.mailboxes.set(channel, new Mailbox(this.capacity));
  }

  deliver(channel: string, message: ChannelMessage): void {
    const mailbox = this.mailboxes.get(channel);
    if (!mailbox) return;
    mailbox.push(message);
    processStats.channelDelivered++;
  }

  deliverGroup(group: string, message: ChannelMessage): void {
    const channels = this.members.get(group);
    if (!channels) return;
    for (const channel of channels) this.deliver(channel, message);
  }

  /** Adds a local channel to a group; true when the group had no local member before. */
  add(group: string, channel: string): boolean {
    if (!this.mailboxes.has(channel)) throw new ConfigError(`channel "${channel}" is not open in this layer`);
    let channels = this.members.get(group);
    const first = !channels;
    if (!channels) this.members.set(group, (channels = new Set()));
    channels.add(channel);
    let groups = this.groupsOf.get(channel);
    if (!groups) this.groupsOf.set(channel, (groups = new Set()));
    groups.add(group);
    return first;
  }

  /** Removes a channel from a group; true when the group has no local member left. */
  discard(group: string, channel: string): boolean {
    this.groupsOf.get(channel)?.delete(group);
    const channels = this.members.get(group);
    if (!channels) return false;
    channels.delete(channel);
    if (channels.size > 0) return false;
    this.members.delete(group);
    return true;
  }

  closeChannel(channel: string): void {
    const mailbox = this.mailboxes.get(channel);
    if (!mailbox) return;
    this.mailboxes.delete(channel);
    mailbox.close();
    const emptied = [...(this.groupsOf.get(channel) ?? [])].filter((group) => this.discard(group, channel));
    this.groupsOf.delete(channel);
    if (emptied.length > 0) this.onGroupsEmptied(emptied);
  }

  /** Checks at once (not on the first next()) that the channel is open here and unread. */
  receive(channel: string, options: ReceiveOptions = {}): AsyncIterableIterator<ChannelMessage> {
    const mailbox = this.mailboxes.get(channel);
    if (!mailbox) throw new ConfigError(`channel "${channel}" is not open in this layer`);
    if (!mailbox.claimReader()) throw new ConfigError(`channel "${channel}" already has a reader`);
    return this.read(channel, mailbox, options);
  }

  private async *read(channel: string, mailbox: Mailbox, options: ReceiveOptions): AsyncIterableIterator<ChannelMessage> {
    const onAbort = (): void => this.closeChannel(channel);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted) return;
      for (;;) {
        const message = await mailbox.next();
        if (message === null) return;
        yield message;
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.closeChannel(channel);
    }
  }

  /** Closes every channel. */
  close(): void {
    this.closed = true;
    for (const channel of [...this.mailboxes.keys()]) this.closeChannel(channel);
  }
}
