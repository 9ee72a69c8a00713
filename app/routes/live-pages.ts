import type { FastifyInstance } from 'fastify';
import { ROOM_NAME } from '../chat-message.js';
import { chartPage, chatIndexPage, chatRoomPage } from '../pages/chat-pages.js';
import { MAX_USERNAME_CHARS } from '../chat-message.js';

function one(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined;
}

/** The chat pages (/chat/, /chat/:room/) and the live chart page (/two/); their sockets are errand channel routes. */
export function livePageRoutes(fastify: FastifyInstance): void {
  fastify.get('/chat/', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const room = one(query.room);
    const username = one(query.username);
    if (room === undefined && username === undefined) return reply.type('text/html; charset=utf-8').send(chatIndexPage());
    if (room === undefined || !ROOM_NAME.test(room)) {
      return reply.code(400).type('text/html; charset=utf-8').send(chatIndexPage('A room name is 1 to 50 letters, digits or _.'));
    }
    if (!username || username.length > MAX_USERNAME_CHARS) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(chatIndexPage(`A name is 1 to ${MAX_USERNAME_CHARS} characters.`));
    }
    return reply.redirect(`/chat/${room}/?username=${encodeURIComponent(username)}`, 303);
  });

  fastify.get('/chat/:room/', async (request, reply) => {
    const { room } = request.params as { room: string };
    const username = one((request.query as Record<string, unknown>).username);
    if (!ROOM_NAME.test(room)) return reply.code(404).type('text/html; charset=utf-8').send(chatIndexPage('No such room name.'));
    if (!username || username.length > MAX_USERNAME_CHARS) return reply.redirect(`/chat/?room=${room}`, 303);
    return reply.type('text/html; charset=utf-8').send(chatRoomPage(room, username));
  });

  fastify.get('/two/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(chartPage()));
}
