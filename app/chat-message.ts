import { z } from 'zod';

/** Room names as the Django Channels tutorial routes them (`\w+`), bounded. */
export const ROOM_NAME = /^\w{1,50}$/;
export const MAX_MESSAGE_CHARS = 1000;
export const MAX_USERNAME_CHARS = 50;

/** What a chat client sends and every member of the room receives. */
export interface ChatMessage {
  message: string;
  username: string;
}

const schema = z.object({
  message: z.string().min(1).max(MAX_MESSAGE_CHARS),
  username: z.string().trim().min(1).max(MAX_USERNAME_CHARS),
});

/** The message with only its two fields, or undefined when it is not a chat message. */
export function parseChatMessage(value: unknown): ChatMessage | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? { message: parsed.data.message, username: parsed.data.username } : undefined;
}

/** The channel-layer group of a room. */
export function roomGroup(room: string): string {
  return `chat_${room}`;
}
