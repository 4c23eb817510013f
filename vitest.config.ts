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
    // Test files share their worker processes instead of each loading every library again (the app imports the
    // Agents SDK, discord.js, grammY, Bolt, OpenTelemetry...): measured 40 s of imports across the suite against
    // 481 s, and 413 s for the whole run against 652. Every file builds its own app, database and key prefix, so
    // what a file must not do is leave a change in a module it shares: restore a spy set on a prototype, a global
    // or an environment variable in `afterAll`.
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
