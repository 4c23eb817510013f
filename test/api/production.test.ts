/**
 * The agent API on the app exactly as production composes it: no extra adapters or modules, so whatever channel
 * adapter API replies need must come from the api module itself. The published LangGraph SDK client drives it,
 * several runs at once; the logs are captured to prove no reply was dropped on the way out.
 */
import { Writable } from 'node:stream';
import { Client } from '@langchain/langgraph-sdk';
import postgres from 'postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/api/index.js';
import { composeApp } from '../../src/cli/app.js';
import { openDatabase } from '../../src/db/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const lines: { msg?: string; level?: number }[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { msg?: string });
    done();
  },
});

let app: TestApp;
let sql: postgres.Sql;
let client: Client;

beforeAll(async () => {
  app = await startTestApp({ log: pino({ level: 'info' }, sink) });
  sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
  const database = openDatabase(app.db.url, 1);
  const { key } = await createApiKey(database.db, 'production');
  await database.close();
  client = new Client({ apiUrl: `${app.url}${app.config.API_PREFIX}`, apiKey: key, callerOptions: { maxRetries: 0 } });
});
afterAll(async () => {
  await sql?.end();
  await app?.close();
});

type Values = { messages: { type: string; content: string }[] };
const lastAi = (v: Values) => v.messages.filter((m) => m.type === 'ai').at(-1)?.content;

const outboxOf = (threadId: string) =>
  sql<
    { status: string; error: string | null }[]
  >`select status, error from outbox where conversation_key like ${`api:%${threadId}%`}`;

describe('the agent API in the production composition', () => {
  afterAll(() => {
    for (const l of lines) if ((l.level ?? 0) >= 50) console.log(JSON.stringify(l));
  });
  it('answers wait and stream runs, several at once, and every reply is delivered, none dropped', async () => {
    const threads = await Promise.all([1, 2, 3, 4].map(() => client.threads.create()));
    const [waited, streamed] = await Promise.all([
      Promise.all(
        threads.slice(0, 2).map((t, i) =>
          client.runs.wait(t.thread_id, 'agent', {
            input: { messages: [{ role: 'user', content: `waiting ${i}` }] },
          }),
        ),
      ),
      Promise.all(
        threads.slice(2).map(async (t, i) => {
          const events: { event: string; data: any }[] = [];
          const stream = client.runs.stream(t.thread_id, 'agent', {
            input: { messages: [{ role: 'user', content: `streaming ${i}` }] },
            streamMode: ['messages-tuple', 'values'],
          });
          for await (const ev of stream) events.push(ev as { event: string; data: any });
          return events;
        }),
      ),
    ]);
    // (How the echo shows the sender is the conversation kind's business: test/api/isolation.test.ts.)
    for (const [i, v] of waited.entries()) expect(lastAi(v as Values)).toMatch(new RegExp(`^Echo: .*waiting ${i}$`));
    for (const [i, events] of streamed.entries()) {
      const deltas = events
        .filter((e) => e.event === 'messages')
        .map((e) => e.data[0])
        .filter((m) => m.type === 'AIMessageChunk');
      const answer = deltas.map((m) => m.content).join('');
      expect(answer).toMatch(new RegExp(`^Echo: .*streaming ${i}$`));
      const values = events.filter((e) => e.event === 'values').at(-1)!.data as Values;
      expect(lastAi(values)).toBe(answer);
    }

    // The outbound stage delivers each reply through the api channel adapter: sent, not failed.
    for (const t of threads) {
      const rows = await waitFor(async () => {
        const r = await outboxOf(t.thread_id);
        return r.length === 1 && r[0]!.status !== 'pending' && r;
      }, `the outbox row of thread ${t.thread_id} to settle`);
      expect(rows).toEqual([{ status: 'sent', error: null }]);
    }
    expect(lines.filter((l) => l.msg === 'reply delivered')).toHaveLength(4);
    expect(lines.filter((l) => /reply dropped/.test(l.msg ?? ''))).toEqual([]);
  });

  it('every role composes the api channel adapter: workers deliver, gateways serve', async () => {
    for (const role of ['gateway', 'worker'] as const) {
      const c = composeApp({
        config: app.config,
        role,
        log: pino({ level: 'silent' }),
        databaseUrl: app.db.url,
        redisUrl: REDIS_URL,
      });
      try {
        expect(c.adapters.get('api'), role).toBeDefined();
      } finally {
        await c.close();
      }
    }
  });
});
