/** ioredis's messages for a command given up on because no connection could be made. */
export const UNREACHABLE = /max retries per request|connection is closed|stream isn't writeable/i;

/** "connection refused" rather than only the errno: what a user searches for. */
export function describeCause(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  const plain: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    ENOTFOUND: 'host not found',
    EHOSTUNREACH: 'host unreachable',
  };
  const text = code ? plain[code] : undefined;
  return text ? `${text}: ${error.message}` : error.message;
}

/** host:port of the server a redis URL names, never the credentials. */
export function endpointOf(redisUrl: string): string {
  const cluster = /^rediss?\+cluster:\/\/(?:[^@/?]*@)?([^/?#]*)/.exec(redisUrl);
  if (cluster) return `the cluster at ${cluster[1]}`;
  try {
    const url = new URL(redisUrl);
    return `${url.hostname || 'localhost'}:${url.port || '6379'}`;
  } catch {
    return 'the redis server';
  }
}
