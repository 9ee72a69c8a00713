import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoute } from '../core/route-table.js';
import { errorReply, type WebReply } from '../core/web-response.js';
import { DASHBOARD_CSS } from './styles.js';

const JS = 'text/javascript; charset=utf-8';

/** The browser modules by served name (`main.js`): compiled .js in dist, or the .ts source when run from src. */
function browserFiles(): Map<string, string> {
  // Found when the dashboard is mounted, not when this module loads (a bundler or a DOM test may load it from no file).
  const dir = fileURLToPath(new URL('./browser/', import.meta.url));
  const files = new Map<string, string>();
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    const match = /^([a-z-]+)\.(js|ts)$/.exec(file);
    if (match && !file.endsWith('.d.ts')) files.set(`${match[1]}.js`, join(dir, file));
  }
  return files;
}

/** Chart.js's UMD build from its npm package (never a CDN). */
function chartFile(): string {
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

async function load(name: string, files: Map<string, string>): Promise<string | undefined> {
  if (name === 'dashboard.css') return DASHBOARD_CSS;
  if (name === 'chart.umd.js') return stripSourceMap(await readFile(chartFile(), 'utf8'));
  const path = files.get(name);
  if (path === undefined) return undefined;
  const source = await readFile(path, 'utf8');
  if (path.endsWith('.js')) return stripSourceMap(source);
  // Running from the TypeScript sources (tests, tsx): the devDependency typescript compiles the module.
  const ts = (await import('typescript')).default;
  return ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } })
    .outputText;
}

function stripSourceMap(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/** GET {base}/assets/:file — the page's script modules, its CSS and Chart.js; public (they hold no data), cached by ETag. */
export function assetRoute(): HttpRoute {
  const files = browserFiles();
  const cache = new Map<string, { body: string; etag: string }>();
  return {
    methods: ['GET', 'HEAD'],
    path: '/dashboard/assets/:file',
    async handle(request, params) {
      const name = params.file!;
      let entry = cache.get(name);
      if (!entry) {
        const body = await load(name, files);
        if (body === undefined) return errorReply(404, { error: 'not_found', message: 'no such dashboard asset' });
        entry = { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
        cache.set(name, entry);
      }
      const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : JS;
      const headers = {
        'content-type': type,
        etag: entry.etag,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      };
      if (request.headers['if-none-match'] === entry.etag) return { status: 304, headers } satisfies WebReply;
      return { status: 200, headers, body: entry.body };
    },
  };
}
