import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase, startPrivateRedis, type TestDatabase } from '../helpers/services.js';

let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
let url: string;
let db: TestDatabase;

beforeAll(async () => {
  redis = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
  url = redis.url;
  db = await createTestDatabase();
});
afterAll(async () => {
  await redis?.stop();
  await db?.drop();
});

it('refuses to start in production on a Redis whose maxmemory-policy is not noeviction, in one sentence', async () => {
  const started = startTestApp({
    db,
    redisUrl: url,
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      REDIS_URL: url,
      LOCAL_CHANNEL: 'off',
      API_ENABLED: 'false',
      MEMORY_ENABLED: 'false',
    },
  });
  await expect(started).rejects.toThrow(
    /^Redis maxmemory-policy is allkeys-lru, but the gateway needs noeviction[^\n]*\.$/,
  );
}, 60_000);

it('warns but starts in development', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
  const app = await startTestApp({ db, redisUrl: url, log, env: { NODE_ENV: 'development', LOCAL_CHANNEL: 'off' } });
  try {
    expect(lines.some((l) => l.includes('maxmemory-policy is allkeys-lru'))).toBe(true);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  } finally {
    await app.stop();
  }
}, 60_000);
