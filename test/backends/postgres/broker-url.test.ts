import { afterEach, expect, it } from 'vitest';
import { ConfigError, createApp, type Errand } from '../../../src/index.js';
import { describePostgres, dropSchema, POSTGRES_URL, uniqueSchema } from '../../support/postgres.js';

describePostgres('postgres: broker URLs', () => {
  const apps: Errand[] = [];
  const schemas: string[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });

  function open(url: string): Errand {
    const app = createApp({ broker: url, logger: false });
    apps.push(app);
    return app;
  }

  it.each(['postgres', 'postgresql'])('%s:// opens the postgres broker on the schema named in the URL', async (scheme) => {
    const schema = uniqueSchema('url');
    schemas.push(schema);
    const url = new URL(POSTGRES_URL);
    url.protocol = `${scheme}:`;
    url.searchParams.set('schema', schema);
    url.searchParams.set('pollIntervalMs', '250');
    const app = open(url.toString());
    expect(app.backend.kind).toBe('postgres');
    expect(app.backend.capabilities).toEqual({
      crossProcess: true,
      durable: true,
      transactionalEnqueue: true,
      flowControl: true,
      rateLimits: true,
      debounce: true,
      aging: true,
      wake: true,
    });
    const r = await app.task('url.t', () => 1).delay();
    expect((await r.info())?.state).toBe('PENDING');
    // the lease thread can open the same broker
    expect(app.backend.spec?.options).toMatchObject({ schema, pollIntervalMs: 250 });
  });

  it('refuses unknown parameters and schema names that are not plain identifiers', () => {
    expect(() => createApp({ broker: `${POSTGRES_URL}?prefix=x`, logger: false })).toThrow(ConfigError);
    expect(() => createApp({ broker: `${POSTGRES_URL}?schema=a;drop`, logger: false })).toThrow(/plain identifier/);
    expect(() => createApp({ broker: `${POSTGRES_URL}?pollIntervalMs=0`, logger: false })).toThrow(ConfigError);
  });
});
