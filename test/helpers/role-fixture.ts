/**
 * For tests that run the roles as OS processes: a database of their own and a Redis prefix, created before the
 * file's tests and removed after them, with every process pushed to `procs` killed first.
 */
import { afterAll, beforeAll } from 'vitest';
import type { RoleProcess } from './processes.js';
import { cleanRedisPrefix, createTestDatabase, uniqueName, type TestDatabase } from './services.js';

export interface RoleFixture {
  /** Set before the file's first test runs. */
  db: TestDatabase;
  prefix: string;
  procs: RoleProcess[];
}

export function roleFixture(name: string): RoleFixture {
  const f = { prefix: uniqueName(name), procs: [] as RoleProcess[] } as RoleFixture;
  beforeAll(async () => {
    f.db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(f.procs.map((p) => p.kill('SIGKILL')));
    await cleanRedisPrefix(f.prefix);
    await f.db?.drop();
  });
  return f;
}
