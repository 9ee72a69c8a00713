import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Where an import lands, as a path under src/, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(src, join(file, '..', spec));
}

describe('dependencies point inward', () => {
  it('core imports only core and Node built-ins', () => {
    for (const file of files(join(src, 'core'))) {
      for (const spec of imports(file)) {
        const to = target(file, spec);
        const ok = to.startsWith('core/') || spec.startsWith('node:');
        expect(ok, `${relative(src, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('broker adapters import core, backends/shared, pubsub and their own driver, never web, channels or each other', () => {
    for (const kind of ['memory', 'sqlite', 'redis', 'postgres', 'shared']) {
      for (const file of files(join(src, 'backends', kind))) {
        for (const spec of imports(file)) {
          const to = target(file, spec);
          if (!spec.startsWith('.')) continue;
          // what several adapters share lives in backends/shared, which itself imports only core
          const ok =
            to.startsWith('core/') ||
            to.startsWith(`backends/${kind}/`) ||
            (kind !== 'shared' && (to.startsWith('backends/shared/') || to.startsWith('pubsub/')));
          expect(ok, `${relative(src, file)} imports ${spec}`).toBe(true);
        }
      }
    }
  });

  it('pub/sub imports only core, itself and the drivers’ connection helpers', () => {
    const drivers = ['backends/postgres/driver.ts', 'backends/redis/cluster.ts'];
    for (const file of files(join(src, 'pubsub'))) {
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const to = target(file, spec).replace(/\.js$/, '.ts');
        const ok = to.startsWith('core/') || to.startsWith('pubsub/') || drivers.includes(to);
        expect(ok, `${relative(src, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('the browser client imports nothing outside itself', () => {
    for (const file of files(join(src, 'client'))) {
      for (const spec of imports(file)) {
        expect(target(file, spec).startsWith('client/'), `${relative(src, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('the reference app imports errand only through its public entry points, as a user would', () => {
    const app = fileURLToPath(new URL('../app', import.meta.url));
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { import: string }>;
    };
    // ./dist/web/index.js → web/index.ts: the source of each package entry
    const entries = new Set(Object.values(pkg.exports).map((e) => e.import.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')));
    for (const file of files(app)) {
      for (const spec of imports(file)) {
        const to = target(file, spec).replace(/\.js$/, '.ts');
        if (!spec.startsWith('.') || to.startsWith('..')) continue; // packages, and app's own files
        expect(entries.has(to), `${relative(app, file)} imports ${spec}`).toBe(true);
      }
    }
  });
});
