import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errand from '../../src/index.js';
import { ErrandError } from '../../src/index.js';

const source = readFileSync(new URL('../../src/core/errors.ts', import.meta.url), 'utf8');
const header = source.slice(0, source.indexOf('*/'));

describe('the error tree', () => {
  const classes = Object.values(errand).filter(
    (value): value is typeof ErrandError => typeof value === 'function' && value.prototype instanceof ErrandError,
  );

  it('exports every error class', () => {
    expect(classes.length).toBeGreaterThanOrEqual(15);
  });

  it('documents every error class and its code at the top of errors.ts', () => {
    for (const cls of classes) {
      const codes = [...source.matchAll(new RegExp(`class ${cls.name} extends ErrandError[\\s\\S]*?super\\('([A-Z_]+)'`, 'g'))];
      expect(codes, cls.name).toHaveLength(1);
      const code = codes[0]![1]!;
      expect(header, `${cls.name} in the header`).toMatch(new RegExp(`${cls.name}\\s+${code}\\b`));
    }
  });

  it('every error has a distinct code, a name and an instanceof chain', () => {
    const codes = new Set(source.match(/super\('ERR_[A-Z_]+'/g));
    expect(codes.size).toBe(classes.length);
    const e = new errand.TaskNotFoundError('x');
    expect(e).toBeInstanceOf(ErrandError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TaskNotFoundError');
    expect(e.code).toBe('ERR_TASK_NOT_FOUND');
  });
});
