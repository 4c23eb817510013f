/**
 * Added Telegram bots in a deployment with no bot in its environment (no TELEGRAM_BOT_TOKEN, BOTS_PLATFORMS=telegram),
 * over two gateway replicas of the REAL app sharing Redis and the database, against the loopback Bot API fake. The
 * fallback re-read is set to a minute, so a bot added or removed through one replica can reach the other this fast
 * only through the change announced over Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBotApi, startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { cleanRedisPrefix, createTestDatabase, uniqueName, type TestDatabase } from '../../helpers/services.js';
import { newUser, privateUpdate, repliesIn, waitFor } from './e2e-helpers.js';

const ADMIN = 'admin-key-0123456789abcdef';
const BOT = { token: '424242424:ADDED-bot_token', secret: 'added_Secret-789' };

let front: FakeBotApi;
let added: FakeBotApi;
let db: TestDatabase;
let a: TestApp;
let b: TestApp;
const prefix = uniqueName('tgfleet');

beforeAll(async () => {
  front = await startFakeBotApi(); // serves the added bot; its own token is set nowhere
  added = front.serveAlso(new FakeBotApi(BOT.token, { id: 424242424, username: 'added_bot' }));
  db = await createTestDatabase();
  const env = {
    KEY_PREFIX: prefix,
    TELEGRAM_API_ROOT: front.url,
    BOTS_PLATFORMS: 'telegram',
    ADMIN_API_KEY: ADMIN,
    BOT_TOKEN_ENCRYPTION_KEY: 'ef'.repeat(32),
    BOTS_SYNC_MS: '60000',
  };
  a = await startTestApp({ env, db });
  b = await startTestApp({ env, db, role: 'gateway' });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await front?.close();
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

const admin = (app: TestApp, method: string, path: string, body?: unknown) =>
  fetch(`${app.url}${path}`, {
    method,
    headers: { 'x-api-key': ADMIN, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const post = (app: TestApp, update: unknown) =>
  fetch(`${app.url}/telegram/bots/added/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': BOT.secret },
    body: JSON.stringify(update),
  }).then((r) => r.status);

describe('added Telegram bots without an environment bot, over two replicas', () => {
  it('a bot added through one replica serves on the other well under a second later', async () => {
    expect(a.adapters.get('telegram'), 'a Telegram channel with no TELEGRAM_BOT_TOKEN').toBeDefined();
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { channels: Record<string, { state: string }> };
    expect(ready.channels.telegram?.state).toBe('up');
    expect(await post(b, privateUpdate(newUser(), 'too early'))).toBe(404);

    const put = await admin(a, 'PUT', '/admin/bots/telegram/added', { token: BOT.token, webhookSecret: BOT.secret });
    expect(put.status).toBe(201);
    const at = Date.now();
    const user = newUser('Ada', 'Moss');
    await waitFor(async () => (await post(b, privateUpdate(user, 'hello via b'))) === 200, 'the bot on b', 5_000);
    const reachedMs = Date.now() - at;
    console.log(`[figure] bot added on replica a serving on replica b after ${reachedMs} ms`);
    expect(reachedMs).toBeLessThan(1_000);
    expect((await repliesIn(added, user.id))[0]!.text).toBe('Echo: hello via b');
  });

  it('the added bot shows its live draft while the answer is written, through its own token', async () => {
    const user = newUser('Lin', 'Park');
    const text = `[[drip:60]] ${Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')}`;
    expect(await post(a, privateUpdate(user, text))).toBe(200);
    expect((await repliesIn(added, user.id))[0]!.text).toBe(`Echo: ${text}`);
    const drafts = added.drafts.filter((d) => d.chat_id === user.id);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.versions.length).toBeGreaterThanOrEqual(2);
    expect(front.drafts).toEqual([]);
  });

  it('a bot removed through one replica stops on the other at once', async () => {
    const user = newUser('Ada', 'Moss');
    expect((await admin(a, 'DELETE', '/admin/bots/telegram/added')).status).toBe(204);
    const removedAt = Date.now();
    await waitFor(async () => (await post(b, privateUpdate(user, 'gone?'))) === 404, 'the bot gone on b', 5_000);
    const goneMs = Date.now() - removedAt;
    console.log(`[figure] bot removed on replica a gone from replica b after ${goneMs} ms`);
    expect(goneMs).toBeLessThan(1_000);
  });
});
