/** Which turn failures are the batch's own fault (dead-lettered in the end) and which are outages (retried for ever). */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StaleTurnError } from '../../src/worker/commit.js';
import { failureReason, isPermanentFailure } from '../../src/worker/failures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
let sql: postgres.Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );

describe('permanent or transient', () => {
  it('real Postgres errors: bad values and broken constraints are permanent, a missing table is not', async () => {
    const nul = await failure(sql`select ${'a\u0000b'}::text`);
    const badJson = await failure(sql`select '{"a":"\\u0000"}'::jsonb`);
    const unique = await failure(
      sql.begin(async (tx) => {
        await tx`create temporary table t (id int primary key)`;
        await tx`insert into t values (1), (1)`;
      }),
    );
    const missing = await failure(sql`select * from no_such_table`);
    for (const err of [nul, badJson, unique]) expect(isPermanentFailure(err), failureReason(err)).toBe(true);
    expect(isPermanentFailure(missing)).toBe(false); // a deploy ahead of its migration heals by itself
    expect(failureReason(nul)).toMatch(/^SQLSTATE 22/);
    // Wrapped by an ORM, still recognised by its cause.
    expect(isPermanentFailure(Object.assign(new Error('Failed query'), { cause: nul }))).toBe(true);
  });

  it('outages and races keep retrying', async () => {
    const refused =
      await failure(postgres('postgres://postgres@127.0.0.1:1/x', { max: 1, connect_timeout: 2 })`select 1`);
    expect(isPermanentFailure(refused)).toBe(false);
    for (const code of ['40001', '40P01', '57P01', '57P03', '08006', 'ECONNRESET', 'CONNECTION_CLOSED']) {
      expect(isPermanentFailure(Object.assign(new Error('x'), { code })), code).toBe(false);
    }
    expect(isPermanentFailure(new StaleTurnError('moved on'))).toBe(false);
    expect(isPermanentFailure(new Error('Connection is closed.'))).toBe(false);
  });

  it('input that does not parse is permanent', () => {
    const zod = z.object({ a: z.string() }).safeParse({ a: 1 });
    expect(isPermanentFailure(zod.error)).toBe(true);
    let syntax: unknown;
    try {
      JSON.parse('{');
    } catch (err) {
      syntax = err;
    }
    expect(isPermanentFailure(syntax)).toBe(true);
  });
});
