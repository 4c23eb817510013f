/** A worker started as the image starts it (the role on the command line) says so in every log line, with its budget. */
import { expect, it } from 'vitest';
import { defaultMaxRssMb } from '../../src/worker/backpressure.js';
import { spawnRole } from '../helpers/processes.js';
import { roleFixture } from '../helpers/role-fixture.js';
import { REDIS_URL } from '../helpers/services.js';
import { until } from '../helpers/wait.js';

const f = roleFixture('workerlogs');

it('logs role "worker" (not "all") and the memory budget it takes from the container, or 1536 MB without a limit', async () => {
  const worker = await spawnRole('worker', {
    DATABASE_URL: f.db.url,
    REDIS_URL,
    KEY_PREFIX: f.prefix,
    OFFLINE_MODEL: 'true',
    LOG_LEVEL: 'info',
  });
  f.procs.push(worker);
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
  const lines = worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  const roles = new Set(lines.map((l) => (JSON.parse(l) as { role?: string }).role));
  expect([...roles]).toEqual(['worker']);
  // Once per line: a log pipeline that keeps the first of two keys (or rejects duplicates) must see the same.
  expect(lines.filter((l) => l.split('"role":').length !== 2)).toEqual([]);
});
