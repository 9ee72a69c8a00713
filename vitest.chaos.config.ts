import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the chaos suite (issue 6). One file at a time and one
// test at a time: scenarios measure timings and must not compete for the cores.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 240_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    globalSetup: ['test/chaos/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-chaos.json' }]],
  },
});
