/**
 * The app runs SERIALIZABLE (CockroachDB's only level; on Postgres it makes the 40001 retry paths run) because its
 * own client asks for it on every connection, not because a database or server happens to default to it.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, withTx, type Database } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let tdb: TestDatabase;
let database: Database;
beforeAll(async () => {
  tdb = await createTestDatabase();
  const admin = postgres(tdb.url, { max: 1, onnotice: () => undefined });
  const [row] = await admin<{ db: string }[]>`select current_database() as db`;
  await admin.unsafe(`alter database "${row!.db}" set default_transaction_isolation = 'read committed'`);
  await admin.end();
  database = openDatabase(tdb.url, 4);
});
afterAll(async () => {
  await database?.close();
  await tdb?.drop();
});

it('a plain connection to the test database is read committed (nothing else sets the level)', async () => {
  const plain = postgres(tdb.url, { max: 1, onnotice: () => undefined });
  const [row] = await plain`show transaction_isolation`;
  await plain.end();
  expect(row!.transaction_isolation).toBe('read committed');
});

it("the app's client is serializable on every pooled connection and in its transactions", async () => {
  // Four at once: each runs on its own connection of the pool.
  const levels = await Promise.all(
    [1, 2, 3, 4].map(() =>
      database.sql.begin(async (tx) => {
        const [row] =
          await tx`select current_setting('transaction_isolation') as level, pg_backend_pid() as pid, pg_sleep(0.2)`;
        return row as { level: string; pid: number };
      }),
    ),
  );
  expect(new Set(levels.map((l) => l.pid)).size).toBe(4);
  expect(levels.map((l) => l.level)).toEqual(['serializable', 'serializable', 'serializable', 'serializable']);
  const [plainRow] = await database.sql`show transaction_isolation`;
  expect(plainRow!.transaction_isolation).toBe('serializable');
  const inTx = await withTx(
    database.db,
    async (tx) =>
      (await tx.execute<{ level: string }>("select current_setting('transaction_isolation') as level"))[0]!.level,
  );
  expect(inTx).toBe('serializable');
});
