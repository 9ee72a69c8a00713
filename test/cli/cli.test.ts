import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { cleanupPrefix, describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

import { APP, errand, start } from './run-cli.js';

function describeCli(name: string, makeUrl: () => string, cleanup: (url: string) => Promise<void>): void {
  describe(`errand CLI on ${name}`, () => {
    const url = makeUrl();
    let app: Errand;
    afterAll(async () => {
      await app?.close();
      await cleanup(url);
    });

    it('worker --app runs the module’s tasks and exits 0 on SIGTERM; status shows them, also as JSON and with --watch', async () => {
      app = createApp({ broker: url, logger: false });
      const worker = await start(['worker', '--app', APP, '--broker', url, '--concurrency', '2'], /errand worker .* running/);
      const r = await app.sendTask('cli.add', [2, 40]);
      expect(await r.get({ timeout: 10_000 })).toBe(42);
      const slow = await app.sendTask('cli.slow', [300]);

      const watched = await errand(['status', slow.id, '--watch', '--json', '--broker', url]);
      expect(watched.code).toBe(0);
      const states = watched.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { state: string }).state);
      expect(states.at(-1)).toBe('SUCCESS');

      const human = await errand(['status', r.id, '--broker', url]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`^${r.id}  cli.add  SUCCESS  v\\d+  attempts 1  result 42\\n$`));
      const json = JSON.parse((await errand(['status', r.id, '--json', '--broker', url])).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ id: r.id, state: 'SUCCESS', result: 42 });

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.stderr()).toMatch(/errand worker stopped/);
    }, 60_000);

    it('revoke and dead-letters list', async () => {
      const later = await app.sendTask('cli.add', [1, 1], { countdown: 60_000 });
      const revoked = await errand(['revoke', later.id, '--json', '--broker', url]);
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: later.id, state: 'REVOKED' });
      const unknown = await app.sendTask('cli.nobody', []);
      const worker = await start(['worker', '--app', APP, '--broker', url], /running/);
      await unknown.get({ timeout: 10_000 }).catch(() => undefined);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const listed = await errand(['dead-letters', 'list', '--json', '--broker', url]);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((d) => d.id)).toContain(unknown.id);
      const lines = await errand(['dead-letters', 'list', '--limit', '5', '--broker', url]);
      expect(lines.stdout).toMatch(/cli\.nobody {2}default {2}UnknownTaskError/);
    }, 60_000);

    it('beat --app enqueues the module’s schedule until SIGTERM', async () => {
      const before = (await app.backend.countWaiting('default')) ?? 0;
      const beat = await start(['beat', '--app', APP, '--broker', url], /errand beat running 1 schedule \(cli\.every\)/);
      await waitFor(async () => (await app.backend.countWaiting('default')) >= before + 2, 10_000);
      beat.child.kill('SIGTERM');
      expect(await beat.exited).toBe(0);
    }, 60_000);
  });
}

describe('errand CLI errors: one line, a non-zero exit, no stack unless --verbose', () => {
  const dir = mkdtempSync(join(tmpdir(), 'errand-cli-'));
  const url = `sqlite://${join(dir, 'e.db')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an unknown id, a malformed id, a bad flag, a missing app, a bad number', async () => {
    const id = randomUUID();
    const cases: Array<[string[], number, RegExp]> = [
      [['status', id, '--broker', url], 1, new RegExp(`^errand: no task with id ${id} \\(unknown, or its result expired\\)\\n$`)],
      [['status', 'nope', '--broker', url], 1, /^errand: "nope" is not a task id \(a UUID\)\n$/],
      [['status', id, '--bogus'], 2, /^error: unknown option '--bogus'\n$/],
      [['worker', '--app', 'no/such/app.ts'], 1, /^errand: --app no\/such\/app\.ts: no such file\n$/],
      [
        ['worker', '--app', APP, '--concurrency', 'many', '--broker', url],
        1,
        /^errand: --concurrency must be a whole number >= 1, got "many"\n$/,
      ],
      [
        ['worker', '--app', 'test/fixtures/cli/broken.mjs', '--broker', url],
        1,
        /^errand: --app \S+broken\.mjs: could not load it: boom at import\n$/,
      ],
      [
        ['worker', '--app', 'test/fixtures/cli/app-less.mjs', '--broker', url],
        1,
        /^errand: --app \S+app-less\.mjs exports no errand app/,
      ],
      [['dead-letters', 'list', '--broker', 'mysql://x'], 1, /^errand: unsupported broker URL "mysql:\/\/x"/],
    ];
    for (const [args, code, stderr] of cases) {
      const run = await errand(args);
      expect({ args, code: run.code }).toEqual({ args, code });
      expect(run.stderr).toMatch(stderr);
      expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  }, 60_000);

  it('an unreachable broker names the host, the port and the cause; --verbose adds the stack', async () => {
    const id = randomUUID();
    const run = await errand(['status', id, '--broker', 'redis://127.0.0.1:1/0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^errand: .*cannot reach 127\.0\.0\.1:1 \(connection refused/);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const verbose = await errand(['status', id, '--broker', 'redis://127.0.0.1:1/0', '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  }, 30_000);
});

describeCli(
  'sqlite',
  () => `sqlite://${join(tmpdir(), `errand-cli-${randomUUID()}`, 'errand.db')}`,
  async (url) => rmSync(join(url.slice('sqlite://'.length), '..'), { recursive: true, force: true }),
);
describeRedis('redis', () => {
  describeCli(
    'redis',
    () => uniqueRedisUrl('cli'),
    async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
  );
});
