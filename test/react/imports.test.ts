import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// errand/react is bundled for the browser: it may use React and errand/client, never server code.
describe('errand/react', () => {
  it('imports only react and src/client', () => {
    const dir = new URL('../../src/react/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('index.ts');
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const [, spec] of source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)) {
        expect(spec, `${file} imports ${spec}`).toMatch(/^(react|\.\/[a-z-]+\.js|\.\.\/client\/index\.js)$/);
      }
    }
  });
});
