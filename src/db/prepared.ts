/**
 * Hot queries, built once per database handle and run as server-side prepared statements.
 *
 * Drizzle rebuilds a query's SQL on every call and, unless a query is `.prepare()`d, postgres.js sends it unnamed,
 * so the server parses and plans it again too. For the few statements every turn and every delivery runs, that
 * was a large share of the worker's CPU (and of the database's, on the same machine). Build them with
 * `sql.placeholder(...)` and call `.execute({ ... })`.
 */
import type { Db } from './client.js';

export function preparedQuery<T>(build: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let q = cache.get(db);
    if (q === undefined) {
      q = build(db);
      cache.set(db, q);
    }
    return q;
  };
}
