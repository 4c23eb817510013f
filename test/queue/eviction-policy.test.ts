/** A Redis that may evict keys silently loses inboxes, dedupe marks and leases: production refuses it at start. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../src/cli/dev-services.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';
import { sleep } from '../helpers/wait.js';

let redis: ChildProcess;
let url: string;
let db: TestDatabase;

beforeAll(async () => {
  const port = await freePort();
  redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'allkeys-lru',
    ],
    { stdio: 'ignore' },
  );
  url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await sleep(50);
  }
  db = await createTestDatabase();
});
afterAll(async () => {
  if (redis?.pid && redis.exitCode === null) {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await exited;
  }
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
