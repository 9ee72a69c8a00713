import { describePostgres, dropSchema, uniquePostgresUrl } from '../support/postgres.js';
import { describeWebSuite } from './web-suite.js';

// Status push on PostgreSQL alone: poll, SSE and WebSocket with the worker in another process.
describePostgres('web on postgres', () => {
  describeWebSuite({ name: 'postgres', makeUrl: () => uniquePostgresUrl('web'), separateWorker: true, cleanup: dropSchema });
});
