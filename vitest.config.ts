import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn processes and share one Redis and one Postgres server (each test file uses its own
    // database and key prefix). Most of their time is waiting (pacers, timers, child processes), so three files at
    // once on two cores: measured 505 s against 620 s with two, with no timing failures.
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
  },
});
