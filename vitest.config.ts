import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most test time is waiting (child processes, servers, Redis, timers), not CPU: at least three test
    // files run side by side even on a 2-core CI machine (7 minutes serially, 3.5 minutes like this).
    maxWorkers: Math.max(3, availableParallelism()),
  },
});
