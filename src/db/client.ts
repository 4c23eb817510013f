/**
 * One postgres.js pool per process, wrapped by drizzle. SERIALIZABLE everywhere: it is CockroachDB's default, and
 * running Postgres the same way makes the 40001 retry paths run in tests.
 */
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema.js';
import { retrySerializable } from './retry.js';

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  sql: Sql;
  db: Db;
  close(): Promise<void>;
}

export function openDatabase(url: string, max = 10): Database {
  const sql = postgres(url, {
    max,
    onnotice: () => undefined,
    connection: { default_transaction_isolation: 'serializable', application_name: 'chat-gateway' },
  });
  return { sql, db: drizzle(sql, { schema }), close: () => sql.end({ timeout: 5 }) };
}

/** A whole transaction, retried on SQLSTATE 40001. `fn` must be safe to run more than once. */
export function withTx<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return retrySerializable(() => db.transaction(fn));
}
