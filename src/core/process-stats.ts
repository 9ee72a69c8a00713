/**
 * Counts the web and channel layers keep for errand/metrics, per process
 * (every app and mount of the process adds to the same numbers): cheap
 * increments on paths that have no instrumentation hook.
 */
export const processStats = {
  /** Open status subscriptions by transport (SSE streams and WebSockets of /task_status/). */
  statusSubscribers: { sse: 0, ws: 0 },
  /** Poll requests answered (any status code). */
  statusPolls: 0,
  /** Channel-layer messages this process sent (send and groupSend) and delivered to its own channels. */
  channelSent: 0,
  channelDelivered: 0,
};

/** Counts one open subscription; returns the function that counts it closed (once). */
export function countSubscriber(transport: 'sse' | 'ws'): () => void {
  processStats.statusSubscribers[transport]++;
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    processStats.statusSubscribers[transport]--;
  };
}
