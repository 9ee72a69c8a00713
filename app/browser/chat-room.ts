// The chat room page: one WebSocket to /ws/chat/<room>/; every line goes in with textContent.
import { socketUrl } from './socket-url.js';

interface ChatMessage {
  message: string;
  username: string;
}

function isChatMessage(value: unknown): value is ChatMessage {
  const v = value as Partial<ChatMessage> | null;
  return typeof v === 'object' && v !== null && typeof v.message === 'string' && typeof v.username === 'string';
}

function required<T extends Element>(element: T | null, what: string): T {
  if (!element) throw new Error(`chat page: ${what} is missing`);
  return element;
}

export function wireChatRoom(root: HTMLElement): void {
  const room = root.dataset.room ?? '';
  const username = root.dataset.username ?? '';
  const log = required(root.querySelector<HTMLElement>('#chat-log'), '#chat-log');
  const state = required(root.querySelector<HTMLElement>('#chat-state'), '#chat-state');
  const form = required(root.querySelector<HTMLFormElement>('#chat-form'), '#chat-form');
  const input = required(root.querySelector<HTMLInputElement>('#chat-input'), '#chat-input');

  const socket = new WebSocket(socketUrl(`/ws/chat/${encodeURIComponent(room)}/`));
  socket.addEventListener('open', () => {
    state.textContent = 'connected';
    root.dataset.state = 'open';
  });
  socket.addEventListener('close', (event) => {
    state.textContent = `disconnected (${event.code})`;
    root.dataset.state = 'closed';
  });
  socket.addEventListener('message', (event) => {
    let data: unknown;
    try {
      data = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (!isChatMessage(data)) return;
    const line = document.createElement('li');
    line.className = 'list-group-item chat-line';
    const who = document.createElement('strong');
    who.textContent = `${data.username}: `;
    const text = document.createElement('span');
    text.textContent = data.message;
    line.append(who, text);
    log.append(line);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ message, username }));
    input.value = '';
  });
}
