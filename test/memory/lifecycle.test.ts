/**
 * The memory lifecycle end to end through the local channel and the real pipeline (offline model and extractor):
 * facts are extracted after turns, superseded when they change, recalled in a new session days later, never given
 * to another user, and flushed to memory before a long conversation's history is compacted.
 *
 * What the agent is told is read with the offline model's `[[instructions]]` phrase (it answers with its system
 * instructions), so the assertions are on what the bot actually receives.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeQdrant, type FakeQdrant } from '../fakes/qdrant/server.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;

describe.each(['postgres', 'qdrant'] as const)('memory lifecycle through the local channel (%s store)', (storeName) => {
  let app: TestApp;
  let fake: FakeQdrant | undefined;
  let sql: postgres.Sql;

  beforeAll(async () => {
    if (storeName === 'qdrant') fake = await startFakeQdrant();
    app = await startTestApp({
      env: { MEMORY_EXTRACT_DELAY_MS: '150', SESSION_HISTORY_LIMIT: '4', ...(fake ? { QDRANT_URL: fake.url } : {}) },
    });
    sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await fake?.close();
  });

  const say = async (user: string, conversation: string, text: string) => {
    const res = await app.post('/local/messages', { conversation, user, text, kind: 'dm', wait: true });
    expect(res.status).toBe(200);
    return (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
  };
  const reset = async (user: string) => {
    const res = await app.post('/local/messages', { conversation: user, user, text: '/reset', kind: 'dm' });
    expect(res.status).toBe(200);
  };
  const facts = async (user: string) =>
    (await app.services.memory!.listMemories(`local:default:${user}`))
      .filter((m) => m.kind === 'fact')
      .map((m) => m.text);
  const until = (user: string, what: string, ok: (texts: string[]) => boolean) =>
    waitFor(
      async () => {
        const t = await facts(user);
        return ok(t) && t;
      },
      what,
      10_000,
    );

  it('supersede: "my favourite colour is blue", later "it is green now" -> green recalled, blue not', async () => {
    await say('ana', 'ana', 'my favourite colour is blue');
    await until('ana', 'the blue fact', (t) => t.includes("The user's favourite colour is blue."));
    await say('ana', 'ana', 'it is green now');
    await until('ana', 'green to supersede blue', (t) => t.join() === "The user's favourite colour is green.");
    await reset('ana'); // a fresh session: only long-term memory speaks (the old history and its summary are gone)
    const told = await say('ana', 'ana', 'what is my favourite colour? [[instructions]]');
    expect(told).toContain("- The user's favourite colour is green.");
    expect(told).not.toContain('blue');
  });

  it('tells the bot a fact, then days later in a new conversation (new session) it is given back', async () => {
    await say('ben', 'ben', 'remember that my sister is called Inês');
    await until('ben', 'the sister fact', (t) => t.includes("The user's sister is called Inês."));
    // "Days later": age the memory (and, on Postgres, the stored rows) by five days; recall weighs recency, not age.
    const api = app.services.memory!;
    const [m] = await api.listMemories('local:default:ben');
    const noted = new Date(Date.now() - 5 * DAY);
    if (storeName === 'postgres') await sql`update memories set created_at = ${noted} where id = ${m!.id}`;
    else
      for (const p of fake!.collections.values())
        for (const pt of p.points.values())
          if (pt.payload.user_key === 'local:default:ben') pt.payload.created_at = noted.toISOString();
    // A new session: /reset starts one (a DM is one conversation per user, so this is how a user gets a fresh one).
    await reset('ben');
    const told = await say('ben', 'ben', "what is my sister's name? [[instructions]]");
    expect(told).toContain(`- The user's sister is called Inês. (noted ${noted.toISOString().slice(0, 10)})`);
    expect(told).not.toContain('Earlier in this conversation'); // a new session: nothing of the old one but memory
  });

  it("never gives one user's memories to another user", async () => {
    await say('cleo', 'cleo', 'my passport number is X1234567');
    await until('cleo', 'the passport fact', (t) => t.length === 1);
    const told = await say('dan', 'dan', 'what is my passport number? [[instructions]]');
    expect(told).not.toContain('X1234567');
    expect(told).not.toContain('Long-term memory');
    expect(await facts('dan')).toEqual([]);
  });

  it('compaction flushes facts to memory before summarising, so the fact survives leaving the window', async () => {
    // The first line leaves the history window (SESSION_HISTORY_LIMIT=4) and is folded into the summary; whether the
    // job that compacts it is also the first to read it or not, the fact must be in memory.
    const texts = ['my dog is called Rex', 'we talked about the weather', 'and about trains', 'and about lunch'];
    for (const t of texts) void app.post('/local/messages', { conversation: 'eva', user: 'eva', text: t, kind: 'dm' });
    await until('eva', 'the dog fact', (t) => t.includes("The user's dog is called Rex."));
    const summary = await waitFor(
      async () => {
        const all = await app.services.memory!.listMemories('local:default:eva');
        return all.find((m) => m.kind === 'summary');
      },
      'the conversation summary',
      10_000,
    );
    expect(summary.source).toMatch(/^local:default:dm:eva#[0-9a-f-]{36}$/);
    const told = await say('eva', 'eva', 'what is my dog called? [[instructions]]');
    expect(told).toContain("- The user's dog is called Rex.");
    expect(told).toMatch(/Earlier in this conversation .*\n.*my dog is called Rex/);
    // After /reset the summary of the discarded history is not carried into the new session; the fact still is.
    await reset('eva');
    const fresh = await say('eva', 'eva', 'and now? [[instructions]]');
    expect(fresh).not.toContain('Earlier in this conversation');
    expect(fresh).toContain("- The user's dog is called Rex.");
  });
});
