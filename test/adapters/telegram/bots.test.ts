/**
 * Many Telegram bots in one deployment, on the REAL app against the loopback Bot API fake: the environment's bot
 * plus bots an admin adds at run time (PUT /admin/bots/telegram/<name>), each answering its own chats with its own
 * token, through its own webhook path or its own poller; one user talking to two bots has two sessions and two
 * memories; a removed bot stops. No restart anywhere.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBotApi, startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { newUser, postUpdate, privateUpdate, repliesIn, SECRET, startTelegramApp, waitFor } from './e2e-helpers.js';
import type { TestApp } from '../../helpers/app.js';

const ADMIN = 'admin-key-0123456789abcdef';
const TWO = { token: '987654321:SECOND-bot_token', secret: 'second_Secret-456' };
const THREE = { token: '555666777:THIRD-bot_token' };

let first: FakeBotApi;
let second: FakeBotApi;
let third: FakeBotApi;
let app: TestApp;
let sql: postgres.Sql;
let dir: string;

beforeAll(async () => {
  // Agent routing by tenant: the second bot's conversations get their own agent.
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'bots-'));
  const agents = {
    agents: [
      { name: 'first-agent', instructions: 'You are the first bot.' },
      { name: 'second-agent', instructions: 'You are the second bot.' },
    ],
    routes: [{ platform: 'telegram', tenant: '987654321', agent: 'second-agent' }],
    default: 'first-agent',
  };
  writeFileSync(resolve(dir, 'agents.yaml'), JSON.stringify(agents)); // JSON is YAML
  first = await startFakeBotApi();
  second = first.serveAlso(new FakeBotApi(TWO.token, { id: 987654321, username: 'second_bot' }));
  third = first.serveAlso(new FakeBotApi(THREE.token, { id: 555666777, username: 'third_bot' }));
  ({ app } = await startTelegramApp(first, {
    mode: 'webhook',
    env: {
      ADMIN_API_KEY: ADMIN,
      AGENTS_FILE: resolve(dir, 'agents.yaml'),
      BOT_TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32),
      BOTS_SYNC_MS: '500',
      MEMORY_EXTRACT_DELAY_MS: '150',
      TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
      TELEGRAM_LEASE_TTL_MS: '3000',
    },
  }));
  sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  await sql?.end();
  await app?.close();
  await first?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const admin = (method: string, path: string, body?: unknown, key = ADMIN) =>
  fetch(`${app.url}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

const toSecond = (update: unknown, secret = TWO.secret, name = 'second') =>
  fetch(`${app.url}/telegram/bots/${name}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(update),
  }).then((r) => r.status);

describe('many Telegram bots in one deployment', () => {
  it('refuses the admin routes without the admin key', async () => {
    expect((await admin('GET', '/admin/bots', undefined, 'wrong-key-0123456789')).status).toBe(401);
    expect((await admin('PUT', '/admin/bots/telegram/x', { token: 'nope' })).status).toBe(400);
  });

  it('two bots each answer their own chat with their own token, one user keeping two sessions', async () => {
    const put = await admin('PUT', '/admin/bots/telegram/second', { token: TWO.token, webhookSecret: TWO.secret });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ tenant: '987654321', webhookPath: '/telegram/bots/second/webhook' });
    const listed = await (await admin('GET', '/admin/bots')).text();
    expect(listed).toContain('"second"');
    expect(listed).not.toContain(TWO.token.split(':')[1]); // never the token

    const user = newUser(); // in Telegram a private chat's id is the user's id: the same chat id with both bots
    expect(await postUpdate(app.url, privateUpdate(user, 'hello first'))).toBe(200);
    expect(await toSecond(privateUpdate(user, 'hello second'))).toBe(200);
    expect((await repliesIn(first, user.id))[0]!.text).toBe('Echo: hello first');
    expect((await repliesIn(second, user.id))[0]!.text).toBe('Echo: hello second');
    expect(first.sentTo(user.id).map((m) => m.text)).toEqual(['Echo: hello first']);
    expect(second.sentTo(user.id).map((m) => m.text)).toEqual(['Echo: hello second']);

    const keys = await sql<
      { key: string }[]
    >`select key from conversations where key like ${`telegram:%:dm:${user.id}`}`;
    expect(keys.map((k) => k.key).sort()).toEqual([
      `telegram:123456789:dm:${user.id}`,
      `telegram:987654321:dm:${user.id}`,
    ]);
  });

  it('routes each bot’s conversations to its own agent (agents file, match on tenant)', async () => {
    const user = newUser('Ola', 'Berg');
    expect(await postUpdate(app.url, privateUpdate(user, 'who are you? [[instructions]]'))).toBe(200);
    expect(await toSecond(privateUpdate(user, 'who are you? [[instructions]]'))).toBe(200);
    expect((await repliesIn(first, user.id))[0]!.text).toContain('You are the first bot.');
    const [second_] = await repliesIn(second, user.id);
    expect(second_!.text).toContain('You are the second bot.');
    expect(second_!.text).not.toContain('You are the first bot.');
  });

  it('refuses a webhook post for a bot with the wrong secret, or for a bot that does not exist', async () => {
    const user = newUser();
    expect(await toSecond(privateUpdate(user, 'forged'), SECRET)).toBe(401);
    expect(await toSecond(privateUpdate(user, 'nobody'), TWO.secret, 'nobody')).toBe(404);
  });

  it('what a user tells one bot is never given back by the other', async () => {
    const user = newUser('Mia', 'Lind');
    expect(await postUpdate(app.url, privateUpdate(user, 'remember that my locker code is 4711'))).toBe(200);
    await repliesIn(first, user.id);
    await waitFor(
      async () => (await app.services.memory!.listMemories(`telegram:123456789:${user.id}`)).length > 0,
      'the fact in the first bot’s memory',
      10_000,
    );
    expect(await toSecond(privateUpdate(user, 'what is my locker code? [[instructions]]'))).toBe(200);
    const [told] = await repliesIn(second, user.id);
    expect(told!.text).not.toContain('4711');
    expect(await app.services.memory!.listMemories(`telegram:987654321:${user.id}`)).toEqual([]);
    // The control: the bot it was told to does give it back.
    expect(await postUpdate(app.url, privateUpdate(user, 'what is my locker code? [[instructions]]'))).toBe(200);
    const replies = await repliesIn(first, user.id, 2);
    expect(replies[1]!.text).toContain('4711');
  });

  it('a bot added at run time (long polling) answers, and stops once removed', async () => {
    const user = newUser('Noor', 'Haddad');
    const added = Date.now();
    expect((await admin('PUT', '/admin/bots/telegram/third', { token: THREE.token })).status).toBe(201);
    third.pushUpdate(privateUpdate(user, 'hello third'));
    const [answer] = await repliesIn(third, user.id);
    console.log(`added-bot-to-first-answer: ${Date.now() - added} ms`);
    expect(answer!.text).toBe('Echo: hello third');
    expect(first.sentTo(user.id)).toEqual([]);

    expect((await admin('DELETE', '/admin/bots/telegram/third')).status).toBe(204);
    expect(await (await admin('GET', '/admin/bots')).text()).not.toContain('"third"');
    await waitFor(() => third.openPolls === 0, 'the removed bot’s poll to end', 10_000);
    const pending = third.pushUpdate(privateUpdate(user, 'anyone there?'));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(third.pendingUpdates).toContain(pending); // nobody polls it any more
    expect(third.sentTo(user.id)).toHaveLength(1);
  });
});
