// A local stand-in for slow third-party APIs: GET /slow?ms=300 answers { ms } after 300 ms.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowServer {
  /** The base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  /** Requests received and not yet answered or abandoned by the client. */
  pending(): number;
  close(): Promise<void>;
}

export async function startSlowServer(): Promise<SlowServer> {
  let pending = 0;
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://localhost').searchParams.get('ms') ?? 0);
    pending++;
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ms })), ms);
    res.on('close', () => {
      pending--;
      clearTimeout(timer); // answered, or the client gave up (its signal aborted)
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pending: () => pending,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections(); // fetch keeps connections alive; close would wait for them
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
