// Entry of /static/live.js: wires the chat room or the live chart, whichever the page has.
import { wireChatRoom } from './chat-room.js';
import { wireLiveChart } from './live-chart.js';

const chat = document.querySelector<HTMLElement>('#chat');
if (chat) wireChatRoom(chat);
const canvas = document.querySelector<HTMLCanvasElement>('#live-chart');
if (canvas) wireLiveChart(canvas, document.querySelector<HTMLElement>('#chart-count'));
