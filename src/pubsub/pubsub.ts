import { BrokerError, ErrandError } from '../core/errors.js';

/**
 * Pub/sub: topics a process listens on and publishes to, on one connection
 * per instance. The backends (task status, wake-ups, revocations) and the
 * channel layers run on it; each broker has its implementation:
 *
 * - memory-pubsub.ts: in-process, over a hub several instances share.
 * - redis-pubsub.ts: SUBSCRIBE/PUBLISH, or sharded SSUBSCRIBE/SPUBLISH on a
 *   Redis Cluster.
 * - postgres-pubsub.ts: one LISTEN connection; NOTIFY (pg_notify) to publish.
 *
 * What every implementation guarantees:
 * - At most once. A message published while the listening connection is
 *   down, or before listen() resolved, is lost: `onReconnect` tells the
 *   owner to re-read what it may have missed. Nothing is stored to replay.
 * - Order per topic per publisher: what one instance publishes to one topic
 *   (each publish awaited) arrives in that order. Nothing is promised across
 *   topics (on a cluster they live on different shards) or across publishers.
 * - Topics form a set: listening twice is one listen, one unlisten ends it.
 *   A topic listened stays listened (again after every reconnect) until
 *   unlisten() or close(), even when listen() rejected because the
 *   connection could not be made: it is listened once the connection is up.
 * - Payloads: memory and Redis carry any string (Redis up to its 512 MB
 *   bulk limit); PostgreSQL's NOTIFY holds under 8000 bytes, so larger
 *   payloads go through an overflow table when one is configured, and are
 *   refused with PayloadTooLargeError otherwise.
 * - Failures are typed: BrokerError when the broker cannot be reached or
 *   refuses, ClosedError for any call but close() after close(). No 'error'
 *   event of a connection goes unhandled.
 *
 * The one reconnect rule: an implementation that manages its own connection
 * waits reconnectDelay(attempt) between attempts, for as long as a topic is
 * listened, and after the connection is back listens to every topic again
 * before it calls onReconnect (once per reconnect).
 */
export interface PubSub {
  /** Listens on `topic`: resolves once messages published to it from now on arrive here. */
  listen(topic: string): Promise<void>;
  /** Stops listening on `topic` (nothing to do when it was not listened). */
  unlisten(topic: string): Promise<void>;
  publish(topic: string, payload: string): Promise<void>;
  /** Closes the connections; idempotent. */
  close(): Promise<void>;
}

/** What a delivery carries besides its topic and payload. */
export interface DeliveryMeta {
  /** PostgreSQL: the server process id of the session that sent the NOTIFY (a backend skips its own). */
  senderPid?: number;
}

/** What the owner of a PubSub is told. */
export interface PubSubHandlers {
  /** A message on a listened topic, in arrival order. It must not throw. */
  deliver(topic: string, payload: string, meta: DeliveryMeta): void;
  /**
   * The connection came back after a drop (or a failed first attempt) and
   * every topic is listened again: re-read what may have been published
   * meanwhile.
   */
  onReconnect?(): void;
}

/** The first wait of the reconnect rule, and its cap. */
export const RECONNECT_FIRST_MS = 100;
export const RECONNECT_MAX_MS = 2000;

/**
 * The wait before reconnect attempt `attempt` (0 for the first): 100 ms
 * doubling to 2 s, each less up to a quarter at random, so that processes a
 * restart dropped together do not come back in lock step.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.max(0, attempt));
  return Math.round(step * (1 - 0.25 * random()));
}

/** A driver error as the BrokerError callers see; errand's own errors (ClosedError…) pass through. */
export function brokerError(name: string, what: string, error: unknown): Error {
  if (error instanceof ErrandError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BrokerError(`${name}: ${what} failed: ${message}`, { cause: error });
}
