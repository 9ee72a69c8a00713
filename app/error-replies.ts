import type { FastifyError, FastifyInstance } from 'fastify';

/** Every error leaves as JSON `{ error, message }` with a stable `error` word; 5xx details stay in the log. */
export function addErrorReplies(fastify: FastifyInstance): void {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: 'internal', message: 'Something went wrong on our side.' });
    }
    return reply.code(status).send({ error: errorWord(status), message: error.message });
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
