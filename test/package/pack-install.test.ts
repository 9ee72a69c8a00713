/**
 * What a user gets from `npm install errand`: the repository is packed (prepack
 * builds dist/), the tarball is installed into an empty ES-module project, and
 * the README quickstart runs there as written, on SQLite and on Redis.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, uniqueRedisUrl } from '../support/redis.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
/** The repository's tsx and TypeScript stand in for the project's own devDependencies. */
const tsxCli = require.resolve('tsx/cli');
const tscCli = require.resolve('typescript/bin/tsc');
/** The better-sqlite3 `npm ci` already built: linked, not compiled again. */
const builtSqlite = dirname(require.resolve('better-sqlite3/package.json'));

/** The environment of a user's shell: none of the variables npm sets for this repository's scripts. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !key.startsWith('npm_package_') &&
      !key.startsWith('npm_lifecycle_') &&
      !['npm_config_local_prefix', 'INIT_CWD', 'ERRAND_BROKER', 'ERRAND_LOG_LEVEL', 'NODE_OPTIONS'].includes(key),
  ),
);
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund'];
/** A strict ES-module TypeScript project; only @types/node comes from the repository. */
const tscFlags = ['--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
tscFlags.push('--types', 'node', '--typeRoots', join(repo, 'node_modules/@types'));

let root: string;
let project: string;

async function sh(file: string, args: string[], cwd: string, timeout = 60_000): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: error,
    });
  }
}

/** Runs `node <args>` expecting failure; returns its exit code and stderr. */
async function failing(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, args, { cwd, env, timeout: 20_000 });
  } catch (error) {
    const e = error as Error & { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
  throw new Error(`node ${args.join(' ')} succeeded`);
}

/** The README's Quickstart section: its shell steps and its `// name.ts — …` files. */
function quickstart(): { shell: string; files: Map<string, string> } {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quickstart\n');
  expect(start, 'README has a Quickstart section').toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
  const files = new Map<string, string>();
  for (const block of blocks.filter((b) => b.lang === 'ts')) {
    const name = /^\/\/ (\S+\.ts) —/.exec(block.code)?.[1];
    if (name !== undefined) files.set(name, block.code);
  }
  return { shell: blocks.find((b) => b.lang === 'sh')?.code ?? '', files };
}

function writeQuickstart(dir: string, broker?: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, code] of quickstart().files) {
    const text = broker === undefined ? code : code.replace("'sqlite://./.errand/errand.db'", `'${broker}'`);
    if (broker !== undefined && name === 'tasks.ts') expect(text, 'tasks.ts names the broker').toContain(broker);
    writeFileSync(join(dir, name), text);
  }
}

/** Starts `tsx worker.ts`, runs `tsx enqueue.ts` beside it, stops the worker with SIGTERM; returns both outputs. */
async function runQuickstart(dir: string): Promise<{ worker: string; enqueue: string; exitCode: number | null }> {
  const worker = spawn(process.execPath, [tsxCli, 'worker.ts'], {
    cwd: dir,
    env: { ...env, ERRAND_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
  worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the worker did not start:\n${out}`)), 20_000);
      worker.stdout.on('data', () => {
        if (out.includes('worker started')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited with ${code}:\n${out}`));
      });
    });
    const enqueue = await sh(process.execPath, [tsxCli, 'enqueue.ts'], dir, 30_000);
    worker.kill('SIGTERM');
    const exitCode = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    if (exitCode === 'hung') throw new Error(`the worker did not exit after SIGTERM:\n${out}`);
    return { worker: out, enqueue, exitCode };
  } finally {
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  }
}

describe('the packed tarball, installed into a new project', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'errand-pack-'));
    project = join(root, 'project');
    mkdirSync(project);
    // npm pack runs prepack, which builds dist/ from src/.
    const packed = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', root], repo, 120_000)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const tarball = join(root, packed[0]!.filename);
    const paths = packed[0]!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'esm-only.cjs']));
    expect(
      paths.filter((p) => !p.startsWith('dist/') && !/^(README\.md|LICENSE|CHANGELOG\.md|esm-only\.cjs|package\.json)$/.test(p)),
    ).toEqual([]);

    // The README's first step, as written; then its `npm install errand …` with the tarball for `errand`.
    const { shell } = quickstart();
    const init = shell.split('\n').find((line) => line.startsWith('npm init'));
    expect(init).toBe('npm init -y && npm pkg set type=module');
    expect(shell).toMatch(/^npm install errand better-sqlite3\b/m);
    await sh('sh', ['-c', init!], project);
    await sh('npm', ['install', ...npmFlags, tarball], project, 120_000);
  }, 240_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('brings neither better-sqlite3 nor Fastify, and works without them', async () => {
    for (const name of ['better-sqlite3', 'fastify', '@fastify', 'bootstrap']) {
      expect(existsSync(join(project, 'node_modules', name)), name).toBe(false);
    }
    writeFileSync(
      join(project, 'no-sqlite.mjs'),
      `import { ConfigError, createApp } from 'errand';
await import('errand/web');
await import('errand/channels');
await import('errand/status');
await import('errand/client');
await import('errand/hono');
await import('errand/webhooks');
await import('errand/dashboard');
const { createServer } = await import('node:http');
const { createErrandHandler } = await import('errand/node');
const app = createApp({ broker: 'memory://', logger: false });
const errand = createErrandHandler({ app });
const server = createServer((req, res) => errand(req, res, () => res.writeHead(418).end()));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = 'http://127.0.0.1:' + server.address().port;
const unknown = await fetch(base + '/task_status/?task_id=00000000-0000-4000-8000-000000000000');
const other = await fetch(base + '/elsewhere');
console.log(unknown.status, (await unknown.json()).error, other.status);
await errand.close();
server.close();
await app.close();
try {
  createApp({ broker: 'sqlite://./x.db', logger: false });
  console.log('opened');
} catch (error) {
  console.log(error instanceof ConfigError, error.message);
}
`,
    );
    const out = await sh(process.execPath, ['no-sqlite.mjs'], project);
    expect(out.trim().split('\n')).toEqual([
      '404 not_found 418', // errand/node answers its own route and passes the rest on
      'true the sqlite broker needs better-sqlite3: npm install better-sqlite3',
    ]);
  });

  it('answers require() by loading the ES module where Node can, else with an error that says what to do', async () => {
    writeFileSync(join(project, 'req.cjs'), "const { createApp } = require('errand');\nconsole.log(typeof createApp);\n");
    writeFileSync(join(project, 'dyn.cjs'), "import('errand').then(({ createApp }) => console.log(typeof createApp));\n");
    expect((await sh(process.execPath, ['dyn.cjs'], project)).trim()).toBe('function');
    const requireEsm = (process.features as { require_module?: boolean }).require_module === true;
    if (requireEsm) expect((await sh(process.execPath, ['req.cjs'], project)).trim()).toBe('function');
    const refused = await failing(requireEsm ? ['--no-experimental-require-module', 'req.cjs'] : ['req.cjs'], project);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('errand is ESM-only');
    expect(refused.stderr).toContain("await import('errand')");
    expect(refused.stderr).toContain('"type": "module"');
  });

  describe('with better-sqlite3 installed', () => {
    beforeAll(async () => {
      // The project's own `npm install better-sqlite3`, minus the compile: a link to the built copy.
      await sh('npm', ['install', ...npmFlags, '--ignore-scripts', builtSqlite], project, 60_000);
      writeQuickstart(project);
    }, 90_000);

    it('type-checks the quickstart against the shipped declarations, and refuses a wrong argument', async () => {
      // one compile: the README files must pass; wrong.ts must fail, once, where the README says it does
      writeFileSync(join(project, 'wrong.ts'), "import { subscribe } from './tasks.js';\nawait subscribe.delay(42);\n");
      const files = ['tasks.ts', 'worker.ts', 'enqueue.ts', 'wrong.ts'];
      const output = await run(process.execPath, [tscCli, ...tscFlags, ...files], { cwd: project, env, timeout: 60_000 }).then(
        ({ stdout }) => stdout,
        (error: Error & { stdout?: string }) => error.stdout ?? error.message,
      );
      const errors = output.split('\n').filter((line) => line.includes('error TS'));
      expect(errors, output).toHaveLength(1);
      expect(errors[0]).toMatch(/^wrong\.ts\(2,\d+\): error TS2345/);
    }, 60_000);

    it('runs the README quickstart on a SQLite file in the project directory', async () => {
      const { worker, enqueue, exitCode } = await runQuickstart(project);
      expect(enqueue).toMatch(/state: '(PENDING|STARTED|SUCCESS)'/);
      expect(enqueue.trim().split('\n').at(-1)).toBe("{ subscribed: 'a@example.com' }");
      // the relative path, resolved and logged once at info level
      expect(worker.split(join(project, '.errand', 'errand.db')).length - 1).toBe(2); // message and field
      expect(existsSync(join(project, '.errand', 'errand.db'))).toBe(true);
      expect(exitCode).toBe(0);
    }, 60_000);

    describeRedis('on Redis', () => {
      it('runs the README quickstart with a redis:// broker', async () => {
        const dir = join(project, 'on-redis');
        writeQuickstart(dir, uniqueRedisUrl('pack'));
        const { enqueue, exitCode } = await runQuickstart(dir);
        expect(enqueue.trim().split('\n').at(-1)).toBe("{ subscribed: 'a@example.com' }");
        expect(exitCode).toBe(0);
      }, 60_000);
    });
  });
});
