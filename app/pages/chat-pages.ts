import { MAX_MESSAGE_CHARS, MAX_USERNAME_CHARS } from '../chat-message.js';
import { html } from './html.js';
import { layout } from './layout.js';

export const LIVE_SCRIPT = '/static/live.js';

/** /chat/: pick a room and a name; a plain GET form, so it works without script. */
export function chatIndexPage(error?: string): string {
  const body = html`<h1 class="h3">Chat</h1>
<p class="text-body-secondary">Everyone in the same room sees every message, whichever web process they reached.</p>
${error ? html`<div class="alert alert-danger" id="chat-error">${error}</div>` : ''}
<form method="get" action="/chat/" class="row g-3" id="chat-join">
  <div class="col-sm-5">
    <label class="form-label" for="room">Room</label>
    <input class="form-control" id="room" name="room" required maxlength="50" pattern="\\w+" placeholder="lobby">
    <div class="form-text">Letters, digits and _ only.</div>
  </div>
  <div class="col-sm-5">
    <label class="form-label" for="username">Your name</label>
    <input class="form-control" id="username" name="username" required maxlength="${MAX_USERNAME_CHARS}">
  </div>
  <div class="col-sm-2 d-flex align-items-end"><button class="btn btn-primary w-100" type="submit">Enter</button></div>
</form>`;
  return layout({ title: 'Chat', body });
}

/** /chat/:room/: the room, its messages and the input; the script reads room and name from data attributes. */
export function chatRoomPage(room: string, username: string): string {
  const body = html`<h1 class="h3">Chatroom - <span id="room-name">${room}</span></h1>
<div id="chat" data-room="${room}" data-username="${username}">
  <div class="small text-body-secondary mb-2">You are <strong>${username}</strong>. <span id="chat-state">connecting…</span></div>
  <ul class="list-group mb-3" id="chat-log" role="log" aria-live="polite"></ul>
  <form id="chat-form" class="d-flex gap-2">
    <input class="form-control" id="chat-input" autocomplete="off" maxlength="${MAX_MESSAGE_CHARS}" aria-label="Message">
    <button class="btn btn-success" id="chat-send" type="submit">Send</button>
  </form>
</div>`;
  return layout({ title: `Chat · ${room}`, body, script: LIVE_SCRIPT });
}

/** /two/: the live chart of the tutorial, fed by WS /ws/two_url/. */
export function chartPage(): string {
  const body = html`<h1 class="h3">Live chart</h1>
<p class="text-body-secondary">A value from 0 to 100 arrives over a WebSocket every few seconds, up to 100 points.</p>
<div id="chart" class="border rounded p-2">
  <canvas id="live-chart" width="800" height="400" data-points="0"></canvas>
</div>
<div class="small text-body-secondary mt-2"><span id="chart-count">0</span> points</div>`;
  return layout({ title: 'Live chart', body, script: LIVE_SCRIPT });
}
