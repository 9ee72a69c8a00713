import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/** Debian's chromium, which the browser tests drive through playwright-core (.ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** In CI (CI=true) a missing browser is a failure, never a silent skip: call once per browser test file. */
export function requireChromiumInCi(what: string): void {
  describe.runIf(process.env.CI === 'true' && !haveChromium)(`browser for ${what}`, () => {
    it(`is installed at ${CHROMIUM}`, () => {
      throw new Error(`${CHROMIUM} is missing: CI must install chromium (see .ci/run)`);
    });
  });
}
