/**
 * A database failure in the middle of a turn is an infrastructure failure: the turn is retried and answered
 * normally once the database is back. It must not count against the model (no apology, no open circuit breaker).
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { sleep } from '../helpers/wait.js';

let app: TestApp;
let sql: postgres.Sql;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '0', MODEL_BREAKER_THRESHOLD: '2' } });
  sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
});
afterAll(async () => {
  await sql?.end();
  await app?.close();
});

it('retries a turn whose history read fails, and answers it once the database is back, without an apology', async () => {
  const first = await app.post('/local/messages', { conversation: 'c-db', user: 'u1', text: 'first', wait: true });
  expect(first.body.replies).toEqual([{ text: 'Echo: [u1] first' }]);

  // Only the session history disappears: the turn gets as far as reading it, several times over (job retries).
  await sql`alter table session_items rename to session_items_away`;
  const pending = app.post('/local/messages', { conversation: 'c-db', user: 'u1', text: 'second', wait: true });
  await sleep(3_000);
  await sql`alter table session_items_away rename to session_items`;

  const second = await pending;
  expect(second.body.replies).toEqual([{ text: 'Echo: [u1] second' }]);
  // The breaker stayed closed: another conversation is answered by the model, not with a notice.
  const other = await app.post('/local/messages', { conversation: 'c-db-2', user: 'u2', text: 'hello', wait: true });
  expect(other.body.replies).toEqual([{ text: 'Echo: [u2] hello' }]);
}, 30_000);
