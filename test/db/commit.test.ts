/** The turn commit's guarantees, on a real Postgres running SERIALIZABLE (as CockroachDB does). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSession } from '../../src/agent/session.js';
import type { InboundEvent } from '../../src/core/types.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { retrySerializable } from '../../src/db/retry.js';
import { addUsageSql } from '../../src/access/store.js';
import {
  commitTurn,
  loadConversation,
  loadTurnInputs,
  StaleTurnError,
  type TurnRecord,
} from '../../src/worker/commit.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let tdb: TestDatabase;
let database: Database;
beforeAll(async () => {
  tdb = await createTestDatabase();
  database = openDatabase(tdb.url, 8);
});
afterAll(async () => {
  await database?.close();
  await tdb?.drop();
});

const ref = { platform: 'local' as const, tenant: 'default', channel: 'c', kind: 'group' as const };
const event = (id: string): InboundEvent => ({
  id,
  platform: 'local',
  tenant: 'default',
  conversation: ref,
  sender: { id: 'u', isBot: false },
  text: id,
  attachments: [],
  mentionsBot: true,
  kind: 'message',
  sentAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
});
const record = (key: string, state: { sessionId: string; version: number }, events: InboundEvent[]): TurnRecord => ({
  turnId: randomUUID(),
  conversationKey: key,
  ref,
  state,
  events,
  items: [{ role: 'user', content: 'x' }],
  reply: 'ok',
  outcome: 'replied',
  inputTokens: 1,
  outputTokens: 1,
  model: 'offline',
  durationMs: 1,
});

describe('commitTurn', () => {
  it('runs SERIALIZABLE', async () => {
    const [row] = await database.sql`show transaction_isolation`;
    expect(row!.transaction_isolation).toBe('serializable');
  });

  it('is fenced: a stale worker cannot commit over a newer turn', async () => {
    const key = `k-${randomUUID()}`;
    const state = await loadConversation(database.db, key);
    await commitTurn(database.db, record(key, state, [event(`e-${randomUUID()}`)]));
    await expect(commitTurn(database.db, record(key, state, [event(`e-${randomUUID()}`)]))).rejects.toBeInstanceOf(
      StaleTurnError,
    );
    expect((await loadConversation(database.db, key)).version).toBe(1);
  });

  it('never lets two turns consume the same message', async () => {
    const key = `k-${randomUUID()}`;
    const ev = event(`e-${randomUUID()}`);
    const s1 = await loadConversation(database.db, key);
    await commitTurn(database.db, record(key, s1, [ev]));
    const s2 = await loadConversation(database.db, key);
    await expect(commitTurn(database.db, record(key, s2, [ev]))).rejects.toBeInstanceOf(StaleTurnError);
  });

  it('of many racing commits for one conversation exactly one wins (40001 retried, never a crash)', async () => {
    const key = `k-${randomUUID()}`;
    const state = await loadConversation(database.db, key);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => commitTurn(database.db, record(key, state, [event(`e-${randomUUID()}`)]))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StaleTurnError);
  });
});

describe('commitTurn with the state read for the turn (one statement: fence, items, turn, reply, usage)', () => {
  const turnState = async (key: string) => (await loadTurnInputs(database.db, key, [], 50)).state;
  const positions = async (sessionId: string) =>
    (await database.sql`select position from session_items where session_id = ${sessionId} order by position`).map(
      (r) => Number(r.position),
    );

  it('is still fenced: the stale commit writes nothing, the next turn appends after the winner', async () => {
    const key = `k-${randomUUID()}`;
    await commitTurn(database.db, record(key, await turnState(key), [event(`e-${randomUUID()}`)]));
    const state = await turnState(key);
    expect(state).toMatchObject({ version: 1 });
    await commitTurn(database.db, record(key, state, [event(`e-${randomUUID()}`)]));
    const stale = event(`e-${randomUUID()}`);
    await expect(commitTurn(database.db, record(key, state, [stale]))).rejects.toBeInstanceOf(StaleTurnError);
    const [kept] = await database.sql`select count(*)::int as n from inbound_messages where event_id = ${stale.id}`;
    expect(kept!.n).toBe(0);
    await commitTurn(database.db, record(key, await turnState(key), [event(`e-${randomUUID()}`)]));
    expect(await positions(state.sessionId)).toEqual([0, 1, 2]);
    expect(await turnState(key)).toMatchObject({ version: 3 });
  });

  it("a stale commit writes none of the modules' usage either, a fresh one writes it with the turn", async () => {
    const key = `k-${randomUUID()}`;
    await commitTurn(database.db, record(key, await turnState(key), [event(`e-${randomUUID()}`)]));
    const state = await turnState(key);
    const person = `local:default:${randomUUID()}`;
    const usage = () => [addUsageSql('2026-12-06', [{ userKey: person, inputTokens: 7, outputTokens: 3 }])];
    await commitTurn(database.db, { ...record(key, state, [event(`e-${randomUUID()}`)]), hookWrites: usage() });
    const stale = { ...record(key, state, [event(`e-${randomUUID()}`)]), hookWrites: usage() };
    await expect(commitTurn(database.db, stale)).rejects.toBeInstanceOf(StaleTurnError);
    const rows =
      await database.sql`select input_tokens::int, output_tokens::int, turns::int from access_usage where user_key = ${person}`;
    expect(rows).toEqual([{ input_tokens: 7, output_tokens: 3, turns: 1 }]);
    expect(await database.sql`select 1 from turns where id = ${stale.turnId}`).toHaveLength(0);
    expect(await database.sql`select 1 from outbox where turn_id = ${stale.turnId}`).toHaveLength(0);
  });

  it('places new items after whatever the session holds, even items written outside a turn', async () => {
    const key = `k-${randomUUID()}`;
    await commitTurn(database.db, record(key, await turnState(key), [event(`e-${randomUUID()}`)]));
    const state = await turnState(key);
    // The Agents SDK session interface appends items itself (src/agent/session.ts): two more, no version bump.
    await new PostgresSession(database.db, state.sessionId, 50).addItems([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    await commitTurn(database.db, {
      ...record(key, state, [event(`e-${randomUUID()}`)]),
      items: [
        { role: 'user', content: 'c' },
        { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'd' }] },
      ],
    });
    expect(await positions(state.sessionId)).toEqual([0, 1, 2, 3, 4]);
  });

  it('of many racing commits from one read exactly one wins', async () => {
    const key = `k-${randomUUID()}`;
    await commitTurn(database.db, record(key, await turnState(key), [event(`e-${randomUUID()}`)]));
    const state = await turnState(key);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => commitTurn(database.db, record(key, state, [event(`e-${randomUUID()}`)]))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StaleTurnError);
    expect(await positions(state.sessionId)).toEqual([0, 1]);
  });
});

describe('retrySerializable', () => {
  it('retries a transaction aborted with SQLSTATE 40001 until it commits', async () => {
    await database.sql`create table if not exists counter (id text primary key, n int not null)`;
    await database.sql`insert into counter values ('a', 0) on conflict do nothing`;
    // Read-then-write increments racing under SERIALIZABLE: without retries most would fail with 40001.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        retrySerializable(() =>
          database.sql.begin(async (tx) => {
            const [row] = await tx`select n from counter where id = 'a'`;
            await tx`update counter set n = ${row!.n + 1} where id = 'a'`;
          }),
        ),
      ),
    );
    const [row] = await database.sql`select n from counter where id = 'a'`;
    expect(row!.n).toBe(10);
  });
});

describe('PostgresSession (Agents SDK Session)', () => {
  it('stores items in order and returns at most the configured window', async () => {
    const s = new PostgresSession(database.db, randomUUID(), 3);
    await s.addItems([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    await s.addItems([
      { role: 'user', content: 'c' },
      { role: 'user', content: 'd' },
    ]);
    expect((await s.getItems()).map((i) => (i as { content: string }).content)).toEqual(['b', 'c', 'd']);
    expect((await s.getItems(2)).map((i) => (i as { content: string }).content)).toEqual(['c', 'd']);
    expect(await s.popItem()).toMatchObject({ content: 'd' });
    await s.clearSession();
    expect(await s.getItems()).toEqual([]);
  });

  it('keeps concurrent writers from clobbering positions', async () => {
    const s = new PostgresSession(database.db, randomUUID(), 100);
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.addItems([{ role: 'user', content: `m${i}` }])));
    expect(await s.getItems()).toHaveLength(8);
  });

  it('migrations are idempotent', async () => {
    expect(await migrate(database.sql)).toEqual([]);
  });
});
