import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeWebRequest, writeNodeResponse } from '../web/node/node-response.js';
import type { WebhookReceiver } from './receiver.js';
import { webhookError } from './webhook-replies.js';

/**
 * A receiver as a node:http request listener, which Express 5 also takes as a
 * route handler: `web.post('/hooks/stripe', webhookNodeHandler(receiver))`.
 * It reads the raw body itself, so no body parser (express.json()) may run
 * before it on that route: a parsed body cannot be verified.
 */
export function webhookNodeHandler(receiver: WebhookReceiver): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.readableEnded) {
      // Otherwise every delivery would fail as signature_mismatch, which hides the mistake.
      const message = 'the body was read before the webhook route (a body parser ran first); mount the route before it';
      writeNodeResponse(res, webhookError(500, 'internal', message));
      return;
    }
    void receiver(nodeWebRequest(req, req, receiver.maxBodyBytes)).then((reply) => {
      // The rest of a refused body is not read: close the connection rather than drain it.
      if (reply.status === 413) reply.headers.connection = 'close';
      writeNodeResponse(res, reply);
    });
  };
}
