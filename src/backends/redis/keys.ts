/** Key and channel names of one prefix; see lua/common.ts for the layout. */
export class RedisKeys {
  /** '{prefix}:' — hash-tagged, so every key of a prefix is in one cluster slot. */
  readonly base: string;
  readonly leases: string;
  readonly dead: string;
  readonly revokedChannel: string;
  readonly statusChannelPrefix: string;
  readonly tagChannelPrefix: string;
  /** The tag-feed cursor, shared by every tag. */
  readonly tagCursor: string;
  /** Set of paused queue names (BackendAdmin.setQueuePaused); claim skips them. */
  readonly paused: string;
  /** Zset of counter buckets (member: bucket) scored by when each is dropped. */
  readonly countBuckets: string;

  constructor(prefix: string) {
    this.base = `{${prefix}}:`;
    this.leases = `${this.base}leases`;
    this.dead = `${this.base}dead`;
    this.revokedChannel = `${this.base}revoked`;
    this.statusChannelPrefix = `${this.base}status:`;
    this.tagChannelPrefix = `${this.base}tag:`;
    this.tagCursor = `${this.base}tagc`;
    this.paused = `${this.base}paused`;
    this.countBuckets = `${this.base}cb`;
  }

  task(id: string): string {
    return `${this.base}t:${id}`;
  }
  idempotency(key: string): string {
    return `${this.base}i:${key}`;
  }
  ready(queue: string): string {
    return `${this.base}q:${queue}`;
  }
  delayed(queue: string): string {
    return `${this.base}d:${queue}`;
  }
  /** Ready tasks of a priority other than 0 (zset; see lua/common.ts). */
  prioritized(queue: string): string {
    return `${this.base}qp:${queue}`;
  }
  wake(queue: string): string {
    return `${this.base}w:${queue}`;
  }
  status(id: string): string {
    return `${this.statusChannelPrefix}${id}`;
  }
  /** A tag's feed: zset of task id -> cursor of its latest change. */
  tagFeed(tag: string): string {
    return `${this.base}tz:${tag}`;
  }
  tagChannel(tag: string): string {
    return `${this.tagChannelPrefix}${tag}`;
  }
  /** SCAN MATCH pattern of every task hash of the prefix (glob characters in the prefix escaped). */
  get taskPattern(): string {
    return `${this.base.replace(/[*?[\]\\]/g, '\\$&')}t:*`;
  }
  /** Bookkeeping records of a kind: hash id -> JSON, and zset id -> expiry time. */
  records(kind: string): string {
    return `${this.base}r:${kind}`;
  }
  recordExpiries(kind: string): string {
    return `${this.base}rx:${kind}`;
  }
  /** One counter bucket: hash counter -> value. */
  counts(bucket: number): string {
    return `${this.base}c:${bucket}`;
  }
  /** An admin log: list of JSON entries, newest first. */
  log(kind: string): string {
    return `${this.base}l:${kind}`;
  }
  /** The four per-queue keys, as the scripts expect them (lua/common.ts queue_keys_at). */
  queueKeys(queue: string): [string, string, string, string] {
    return [this.ready(queue), this.delayed(queue), this.wake(queue), this.prioritized(queue)];
  }
}
