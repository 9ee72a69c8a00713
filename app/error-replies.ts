import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';

/** Every error leaves as JSON `{ error, message }` with a stable `error` word; 5xx details stay in the log. */
export function addErrorReplies(fastify: FastifyInstance): void {
  // RFC 9112: an HTTP/1.1 request without Host is a 400 (web.ts turns off Node's own, bodiless one).
  fastify.addHook('onRequest', async (request, reply) => {
    const { headers, httpVersionMajor, httpVersionMinor } = request.raw;
    if (headers.host === undefined && (httpVersionMajor > 1 || (httpVersionMajor === 1 && httpVersionMinor >= 1))) {
      return reply.code(400).send({ error: 'bad_request', message: 'An HTTP/1.1 request needs a Host header.' });
    }
  });
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: 'internal', message: 'Something went wrong on our side.' });
    }
    return reply.code(status).send({ error: errorWord(status), message: error.message });
  });
  // An Expect other than 100-continue: Node would answer a bare 417; this one is JSON too.
  fastify.server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify({ error: 'expectation_failed', message: 'Only "Expect: 100-continue" is supported.' });
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      connection: 'close',
    });
    response.end(body);
  });
  fastify.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: 'not_found', message: `${request.method} ${request.url} does not exist` });
  });
}

function errorWord(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 403:
      return 'forbidden';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return 'request_error';
  }
}
