/** A worker started as the image starts it (the role on the command line) says so in every log line, with its budget. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultMaxRssMb } from '../../src/worker/backpressure.js';
import { spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.js';
import { until } from '../helpers/wait.js';

let db: TestDatabase;
const prefix = uniqueName('workerlogs');
const procs: RoleProcess[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

it('logs role "worker" (not "all") and the memory budget it takes from the container, or 1536 MB without a limit', async () => {
  const worker = await spawnRole('worker', {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    LOG_LEVEL: 'info',
  });
  procs.push(worker);
  const line = await until(
    async () =>
      worker
        .output()
        .split('\n')
        .find((l) => l.includes('"back-pressure on"')),
    (l) => l !== undefined,
    10_000,
  );
  const fields = JSON.parse(line!) as { role: string; maxRssMb: number };
  // This test runs on the same machine (and in the same container, if any) as the worker it started.
  expect(fields).toMatchObject({ role: 'worker', maxRssMb: defaultMaxRssMb() });
  const roles = new Set(
    worker
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { role?: string }).role),
  );
  expect([...roles]).toEqual(['worker']);
});
