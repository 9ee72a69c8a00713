import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How the receiver answers delivery number `n` (1-based): a status, or 'hang' (never answers). */
export type Answer = (n: number) => number | 'hang';

/** A local endpoint that records every callback POST and answers as told. */
export class CallbackReceiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private readonly hanging = new Set<() => void>();

  private constructor(private readonly answer: Answer) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const reply = this.answer(this.received.length);
        if (reply === 'hang') {
          this.hanging.add(() => res.destroy());
          return;
        }
        res.writeHead(reply, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  static async start(answer: Answer = () => 200): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver(answer);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/errand?token=t1`;
  }

  async stop(): Promise<void> {
    for (const end of this.hanging) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
