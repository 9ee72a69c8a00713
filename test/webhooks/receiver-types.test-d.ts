// Type-only (checked by tsc, never run): the docs' receiver example compiles, and toArgs must fit the task.
import { createApp } from '../../src/index.js';
import { webhookReceiver } from '../../src/webhooks/index.js';

const app = createApp({ broker: 'memory://', logger: false });
const fulfilOrder = app.task('orders.fulfil', async (_ctx, orderId: string) => orderId);

webhookReceiver({
  app,
  task: fulfilOrder,
  scheme: 'stripe',
  secrets: 'whsec_x',
  toArgs: (event: { data: { object: { id: string } } }) => [event.data.object.id],
});

webhookReceiver({
  app,
  task: fulfilOrder,
  scheme: 'stripe',
  secrets: 'whsec_x',
  // @ts-expect-error a number is not the task's orderId
  toArgs: (event: { n: number }) => [event.n],
});
