/**
 * API callers are isolated by key. `user_id` is whatever a client sends, so: two keys naming the same user never
 * share a rate bucket, a session or memories; no body makes its sender an admin; and a thread, one caller's
 * conversation, shows the model each message as sent (no `[user] ` label). Driven through the LangGraph SDK.
 */
import type { Client } from '@langchain/langgraph-sdk';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMITED_TEXT } from '../../src/access/gate.js';
import { createApiKey } from '../../src/api/index.js';
import { apiSenderId } from '../../src/api/ids.js';
import { openDatabase } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { lastAi, startApiApp, userInput, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let db: TestDatabase;
let a: { id: string; client: Client };
let b: { id: string; client: Client };

beforeAll(async () => {
  // Keys first, so the config can name one of them: not even ADMIN_USERS=api:<key>:admin makes a body an admin.
  db = await createTestDatabase();
  const database = openDatabase(db.url, 1);
  const [ka, kb] = [await createApiKey(database.db, 'a'), await createApiKey(database.db, 'b')];
  await database.close();
  app = await startApiApp(
    {
      RATE_LIMIT_PER_MINUTE: '1',
      RATE_LIMIT_BURST: '3',
      MEMORY_EXTRACT_DELAY_MS: '150',
      ADMIN_USERS: `api:admin,api:${ka.id}:admin,local:boss`,
    },
    { db },
  );
  a = { id: ka.id, client: app.client(ka.key) };
  b = { id: kb.id, client: app.client(kb.key) };
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

// raiseError off: a refused run (rate limited) still shows the notice the thread holds, as a chat client would.
const as = (user: string, text: string) => ({
  input: userInput(text),
  config: { configurable: { user_id: user } },
  raiseError: false,
});
const ask = async (c: Client, threadId: string, user: string, text: string) =>
  lastAi(await c.runs.wait(threadId, 'agent', as(user, text)));
const newThread = async (c: Client) => (await c.threads.create()).thread_id;

describe('API callers are isolated by key', () => {
  it('two keys with the same user_id have separate rate buckets', async () => {
    const [ta, tb] = [await newThread(a.client), await newThread(b.client)];
    for (const n of [1, 2, 3]) expect(await ask(a.client, ta, 'sam', `a ${n}`)).toBe(`Echo: a ${n}`);
    // Key a's "sam" has spent the burst; key b's "sam" is someone else with a full bucket.
    expect(await ask(b.client, tb, 'sam', 'b 1')).toBe('Echo: b 1');
    expect(await ask(a.client, ta, 'sam', 'a 4')).toBe(RATE_LIMITED_TEXT);
  });

  it('two keys with the same user_id and thread id have separate sessions, run at the same time', async () => {
    const id = randomUUID();
    await Promise.all([a.client.threads.create({ threadId: id }), b.client.threads.create({ threadId: id })]);
    const [ra, rb] = await Promise.all([ask(a.client, id, 'kim', 'from a'), ask(b.client, id, 'kim', 'from b')]);
    expect([ra, rb]).toEqual(['Echo: from a', 'Echo: from b']);
    const contents = async (c: Client) =>
      ((await c.threads.getState(id)).values as { messages: { content: string }[] }).messages.map((m) => m.content);
    expect(await contents(a.client)).toEqual(['from a', 'Echo: from a']);
    expect(await contents(b.client)).toEqual(['from b', 'Echo: from b']);
  });

  it('two keys with the same user_id have separate memories', async () => {
    expect(await ask(a.client, await newThread(a.client), 'mia', 'my favourite colour is teal')).toBe(
      'Echo: my favourite colour is teal',
    );
    const memories = (keyId: string) => app.services.memory!.listMemories(`api:${keyId}:${apiSenderId(keyId, 'mia')}`);
    await waitFor(
      async () => (await memories(a.id)).some((m) => m.text.includes('teal')),
      'the teal fact of key a',
      15_000,
    );
    expect(await ask(a.client, await newThread(a.client), 'mia', 'colour? [[instructions]]')).toContain('teal');
    expect(await ask(b.client, await newThread(b.client), 'mia', 'colour? [[instructions]]')).not.toContain('teal');
    expect(await memories(b.id)).toEqual([]);
  });

  it('a client cannot become an admin by what it sends (admins skip the rate limit)', async () => {
    const t = await newThread(a.client);
    for (const n of [1, 2, 3]) expect(await ask(a.client, t, 'admin', `x ${n}`)).toBe(`Echo: x ${n}`);
    expect(await ask(a.client, t, 'admin', 'x 4')).toBe(RATE_LIMITED_TEXT);
  });

  it("a thread is one caller's conversation: the model gets each message as sent, without a sender label", async () => {
    const t = await newThread(b.client);
    expect(await ask(b.client, t, 'lee', '[note] keep my brackets')).toBe('Echo: [note] keep my brackets');
    const state = (await b.client.threads.getState(t)).values as { messages: { type: string; content: string }[] };
    expect(state.messages[0]).toMatchObject({ type: 'human', content: '[note] keep my brackets' });
  });

  it("a thread is not a person's chat: /broadcast reaches DMs but writes nothing into API threads", async () => {
    const t = await newThread(b.client);
    expect(await ask(b.client, t, 'ned', 'hi')).toBe('Echo: hi');
    const dm = await app.post('/local/messages', {
      conversation: 'dm-pat',
      user: 'pat',
      kind: 'dm',
      text: 'hello',
      wait: true,
    });
    expect(dm.status).toBe(200);
    const res = await app.post('/local/messages', {
      conversation: 'dm-boss',
      user: 'boss',
      kind: 'dm',
      text: '/broadcast Maintenance tonight',
      wait: true,
    });
    expect(res.status).toBe(200);
    // The broadcast's outbox rows are written before the command answers.
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql<
        { key: string }[]
      >`select conversation_key as key from outbox where markdown like '%Maintenance tonight%'`;
      expect(rows.map((r) => r.key)).toContain('local:default:dm:pat');
      expect(rows.filter((r) => r.key.startsWith('api:'))).toEqual([]);
    } finally {
      await sql.end();
    }
  });
});
