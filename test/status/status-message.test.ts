import { describe, expect, it } from 'vitest';
import { statusMessage } from '../../src/status/index.js';
import { info } from './fake-backend.js';

describe('statusMessage', () => {
  it("is the seeds' { state } plus the version for a plain state", () => {
    expect(statusMessage(info(1, 'PENDING'))).toEqual({ state: 'PENDING', version: 1 });
  });

  it('carries the error message and class on FAILURE and RETRY', () => {
    const error = { type: 'ValueError', message: 'bad input' };
    expect(statusMessage(info(3, 'FAILURE', { error }))).toEqual({
      state: 'FAILURE',
      version: 3,
      error: 'bad input',
      errorType: 'ValueError',
    });
    expect(statusMessage(info(3, 'RETRY', { error }))).toMatchObject({ error: 'bad input' });
  });

  it('carries progress, and the result on SUCCESS only', () => {
    expect(statusMessage(info(2, 'PROGRESS', { progress: { current: 3, total: 10, meta: { file: 'a' } } }))).toEqual({
      state: 'PROGRESS',
      version: 2,
      progress: { current: 3, total: 10, meta: { file: 'a' } },
    });
    expect(statusMessage(info(4, 'SUCCESS', { result: { ok: true } }))).toEqual({
      state: 'SUCCESS',
      version: 4,
      result: { ok: true },
    });
    expect(statusMessage(info(4, 'SUCCESS', { result: 0 }))).toMatchObject({ result: 0 });
  });

  it('leaves out what the browser should not see (name, queue, times, attempts)', () => {
    const message = statusMessage(info(1, 'STARTED', { startedAt: 5, attempts: 1 }));
    expect(Object.keys(message).sort()).toEqual(['state', 'version']);
  });
});
