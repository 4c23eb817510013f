/** Starts the real app (same composition root as production) in-process, on test services. */
import { pino } from 'pino';
import { startApp, type App, type AppOptions, type Role } from '../../src/cli/app.js';
import type { Config } from '../../src/config/env.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, testConfig, type TestDatabase } from './services.js';

export interface TestApp extends App {
  config: Config;
  db: TestDatabase;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startTestApp(
  opts: { env?: Record<string, string>; role?: Role; db?: TestDatabase } & Partial<AppOptions> = {},
): Promise<TestApp> {
  const config = testConfig(opts.env);
  const db = opts.db ?? (await createTestDatabase());
  const app = await startApp({
    config,
    role: opts.role ?? 'all',
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    lockDurationMs: 3_000,
    sweepEveryMs: 1_000,
    ...opts,
  });
  return {
    ...app,
    config,
    db,
    async post(path, body, headers = {}) {
      const res = await fetch(app.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed };
    },
    async close() {
      await app.stop();
      // A prefix the test chose may be shared with other apps still running: the test cleans it.
      if (!opts.env?.KEY_PREFIX) await cleanRedisPrefix(config.KEY_PREFIX);
      if (!opts.db) await db.drop();
    },
  };
}
