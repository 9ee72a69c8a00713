import { channelRoute } from '../../src/web/index.js';
import { parseChatMessage, ROOM_NAME, roomGroup, type ChatMessage } from '../chat-message.js';

/** WS /ws/chat/:room/: `{ message, username }` in, the same to every member of the room out. */
export const chatRoute = channelRoute<{ room: string }, ChatMessage>({
  path: '/ws/chat/:room/',
  params: ({ room }) => (room !== undefined && ROOM_NAME.test(room) ? { room } : undefined),
  group: ({ room }) => roomGroup(room),
  parse: (message) => parseChatMessage(message),
  onMessage: (message, socket) => socket.groupSend({ message: message.message, username: message.username }),
  // 1000 characters of up to 3 UTF-8 bytes each, the name and the JSON around them.
  maxMessageBytes: 8 * 1024,
});
