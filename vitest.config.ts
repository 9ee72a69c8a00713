import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The chaos suite runs on its own: npm run test:chaos (vitest.chaos.config.ts).
    exclude: ['test/chaos/**', '**/node_modules/**'],
    pool: 'forks',
    // Fails a file that leaves a worker running or a broker connection open.
    setupFiles: ['test/support/leak-check.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The JSON report feeds the plain "N passed, N failed" line that .ci/run prints.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
