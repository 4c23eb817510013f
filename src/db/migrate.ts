/**
 * Applies the SQL migrations drizzle-kit generated in migrations/, in journal order, once each.
 *
 * Not drizzle's own migrator on purpose: it keeps its ledger in a table with a SERIAL id, which we avoid for
 * CockroachDB. Ours records each migration by name in `schema_migrations`; two migrators racing are serialized by
 * that primary key (the loser's transaction fails with 40001/23505, retries, and finds the work done).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from 'postgres';
import { appPath } from '../core/app-root.js';
import { retrySerializable } from './retry.js';

interface Journal {
  entries: { idx: number; tag: string }[];
}

export async function migrate(sql: Sql): Promise<string[]> {
  const dir = appPath('migrations');
  const journal = JSON.parse(await readFile(path.join(dir, 'meta', '_journal.json'), 'utf8')) as Journal;
  await sql`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`;
  const applied: string[] = [];
  for (const entry of [...journal.entries].sort((a, b) => a.idx - b.idx)) {
    const text = await readFile(path.join(dir, `${entry.tag}.sql`), 'utf8');
    const statements = text
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean);
    const did = await retrySerializable(() =>
      sql.begin(async (tx) => {
        const [row] = await tx`select 1 from schema_migrations where name = ${entry.tag}`;
        if (row) return false;
        await tx`insert into schema_migrations (name) values (${entry.tag})`;
        for (const stmt of statements) await tx.unsafe(stmt);
        return true;
      }),
    );
    if (did) applied.push(entry.tag);
  }
  return applied;
}
