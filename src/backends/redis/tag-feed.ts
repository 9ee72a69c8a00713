import type { TagFeedEntry, TagFeedPage, Unsubscribe } from '../../core/backend.js';
import { BrokerError } from '../../core/errors.js';
import { Listeners } from '../../core/listeners.js';
import type { TaskInfo } from '../../core/types.js';
import { infoFromFields } from './codec.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './cluster.js';

/** What the tag feeds need from the backend that owns the connections. */
export interface TagFeedHost {
  readonly keys: RedisKeys;
  /** The command connection. */
  readonly redis: RedisClient;
  /** (Un)subscribes a channel on the shared subscriber connection (opened on first use). */
  listen(channel: string): Promise<unknown>;
  unlisten(channel: string): Promise<unknown>;
  /** Runs lua/read-tag-feed.ts: KEYS[1] the tag's zset, ARGV after and limit. */
  readPage(tag: string, after: string, limit: number): Promise<unknown>;
  wrap(what: string, error: unknown): Error;
  isClosed(): boolean;
}

interface TagEntry {
  listeners: Listeners<TagFeedEntry>;
  /** Settles once SUBSCRIBE is acknowledged and `since` is read. */
  ready: Promise<unknown>;
  /** Cursor of the last change delivered: later messages with a smaller one are duplicates. */
  heard: number;
  /** The feed's cursor when listening began: where a replay after a reconnect starts at the earliest. */
  since: number;
  /** Messages that arrive while a replay reads the feed; delivered after it, in cursor order. */
  held?: TagFeedEntry[];
}

/** Pages read per replay call after a reconnect. */
const REPLAY_PAGE = 1000;
/** A page never asks for more than this (the zsets are capped at 10,000 anyway). */
const MAX_PAGE = 100_000;

/**
 * Tag feeds over Redis (key layout in lua/common.ts): pages are read by
 * one script; changes arrive on BASE tag:<tag>, published by the script that
 * made them, as '<cursor> <TaskInfo JSON>'. After a reconnect the channels
 * are subscribed again and what changed meanwhile is read from the feed, so
 * a listener misses nothing and hears cursors in order.
 */
export class TagFeeds {
  private readonly entries = new Map<string, TagEntry>();

  constructor(private readonly host: TagFeedHost) {}

  async read(tag: string, after: number, limit: number): Promise<TagFeedPage> {
    const n = Number.isFinite(limit) ? Math.min(Math.max(0, Math.floor(limit)), MAX_PAGE) : limit > 0 ? MAX_PAGE : 0;
    const from = Number.isFinite(after) ? String(after) : after > 0 ? '+inf' : '0';
    const reply = await this.host.readPage(tag, from, n);
    if (!Array.isArray(reply) || (reply.length - 1) % 7 !== 0) {
      throw new BrokerError('redis readTagFeed answered something other than a feed page');
    }
    const entries: TagFeedEntry[] = [];
    for (let i = 1; i < reply.length; i += 7) {
      const id = String(reply[i]);
      const fields = (reply.slice(i + 2, i + 7) as unknown[]).map((v) => (v === null ? null : String(v)));
      const info = infoFromFields(id, fields);
      if (info) entries.push({ cursor: Number(reply[i + 1]), info });
    }
    return { entries, cursor: entries.at(-1)?.cursor ?? after, more: Number(reply[0]) === 1 };
  }

  async subscribe(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe> {
    let entry = this.entries.get(tag);
    if (!entry) {
      const created: TagEntry = { listeners: new Listeners<TagFeedEntry>(), ready: Promise.resolve(), heard: 0, since: 0 };
      created.ready = this.host
        .listen(this.host.keys.tagChannel(tag))
        .then(() => this.host.redis.get(this.host.keys.tagCursor))
        .then((cursor) => {
          created.since = Number(cursor) || 0;
        });
      created.ready.catch(() => {});
      this.entries.set(tag, created);
      entry = created;
    }
    const current = entry;
    const off = current.listeners.add(listener);
    try {
      await current.ready;
    } catch (error) {
      off();
      await this.drop(tag, current);
      throw this.host.wrap('subscribeTag', error);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      off();
      await this.drop(tag, current);
    };
  }

  /** Handles a message of a tag channel; false when `channel` is not one. */
  handle(channel: string, message: string): boolean {
    if (!channel.startsWith(this.host.keys.tagChannelPrefix)) return false;
    const entry = this.entries.get(channel.slice(this.host.keys.tagChannelPrefix.length));
    const space = message.indexOf(' ');
    if (!entry || space < 0) return true;
    let info: TaskInfo;
    try {
      info = JSON.parse(message.slice(space + 1)) as TaskInfo;
    } catch {
      // a corrupt record (its stored JSON is embedded as it is): the feed reports it on read
      return true;
    }
    this.deliver(entry, { cursor: Number(message.slice(0, space)), info });
    return true;
  }

  /**
   * After the channels are subscribed again: delivers what changed while
   * disconnected (read from the feed), holding live messages until then.
   */
  async replay(): Promise<void> {
    await Promise.all(
      [...this.entries].map(async ([tag, entry]) => {
        const held: TagFeedEntry[] = [];
        entry.held = held;
        try {
          let after = Math.max(entry.heard, entry.since);
          for (;;) {
            const page = await this.read(tag, after, REPLAY_PAGE);
            for (const e of page.entries) this.emit(entry, e);
            after = page.cursor;
            if (!page.more) break;
          }
        } catch {
          // the next reconnect tries again; live messages still flow
        } finally {
          if (entry.held === held) entry.held = undefined;
          held.sort((x, y) => x.cursor - y.cursor);
          for (const e of held) this.deliver(entry, e);
        }
      }),
    );
  }

  clear(): void {
    this.entries.clear();
  }

  private deliver(entry: TagEntry, e: TagFeedEntry): void {
    if (entry.held) entry.held.push(e);
    else this.emit(entry, e);
  }

  /** In cursor order only: a change older than one already delivered is a duplicate (a replay overlapping a message). */
  private emit(entry: TagEntry, e: TagFeedEntry): void {
    if (!(e.cursor > entry.heard)) return;
    entry.heard = e.cursor;
    entry.listeners.emit(e);
  }

  private async drop(tag: string, entry: TagEntry): Promise<void> {
    if (entry.listeners.size > 0 || this.entries.get(tag) !== entry) return;
    this.entries.delete(tag);
    if (this.host.isClosed()) return;
    await this.host.unlisten(this.host.keys.tagChannel(tag)).catch(() => {});
  }
}
