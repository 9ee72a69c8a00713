// Sends one signed Standard Webhooks delivery to the demo: npx tsx app/send-webhook.ts [url] [email]
import { loadConfig } from './config.js';
import { standardWebhookHeaders } from '../src/webhooks/index.js';

const config = loadConfig();
const url = process.argv[2] ?? `http://127.0.0.1:${config.port}/webhook_test_async/`;
const email = process.argv[3] ?? 'ada@example.com';
const body = JSON.stringify({ type: 'subscriber.created', data: { email, username: email.split('@')[0] } });
// A fresh id per run; send the same one twice to see the replay get the same task id.
const id = process.env.WEBHOOK_ID ?? `msg_${Date.now()}`;
const headers = standardWebhookHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: config.webhookSecret });
const started = performance.now();
const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
process.stdout.write(`${response.status} ${await response.text()} (${Math.round(performance.now() - started)} ms)\n`);
