/**
 * Refusals on the turn path, through the local channel: the per-user rate limit (token bucket over messages), the
 * daily token budget, the bot-loop guard (replies per conversation per minute), and the input size limit at
 * ingress. Each refusal consumes the messages with one polite answer (or, where repeating it would not help,
 * quietly) and is recorded as the turn's outcome.
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetText, RATE_LIMITED_TEXT } from '../../src/access/gate.js';
import { allowReply, takeTokens } from '../../src/access/limits.js';
import { accessKeys } from '../../src/access/policy.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { cleanRedisPrefix, REDIS_URL, uniqueName } from '../helpers/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function turnOutcome(app: TestApp, turnId: string): Promise<string> {
  const sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
  try {
    return (await sql<{ outcome: string }[]>`select outcome from turns where id = ${turnId}`)[0]!.outcome;
  } finally {
    await sql.end();
  }
}

/** Fixed one-minute windows: do not start a window-sensitive test in the last seconds of a minute. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 56_000) await sleep(60_000 - into + 100);
}

describe('rate limit and bot-loop guard', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      env: {
        RATE_LIMIT_PER_MINUTE: '6',
        RATE_LIMIT_BURST: '2',
        BOT_LOOP_MAX_REPLIES_PER_MINUTE: '4',
        ADMIN_USERS: 'local:boss',
        MAX_INPUT_CHARS: '500',
      },
    });
  });
  afterAll(async () => app?.close());
  const say = (conversation: string, user: string, text: string) =>
    app.post('/local/messages', { conversation, user, text, kind: 'dm', wait: true });

  it('answers a burst up to the bucket, then refuses politely once, then quietly; admins are not limited', async () => {
    const got = [];
    for (let i = 1; i <= 4; i++) got.push((await say('rl-dm', 'speedy', `message ${i}`)).body);
    expect(got.map((b) => b.replies.map((r: { text: string }) => r.text))).toEqual([
      ['Echo: message 1'],
      ['Echo: message 2'],
      [RATE_LIMITED_TEXT],
      [], // consumed quietly: one notice a minute is enough
    ]);
    expect(await turnOutcome(app, got[2].turnId)).toBe('rate_limited');
    expect(await turnOutcome(app, got[3].turnId)).toBe('rate_limited');
    // The bucket refills (6 a minute: one every 10 s); meanwhile another user is not affected.
    expect((await say('rl-dm-2', 'calm', 'hi')).body.replies).toEqual([{ text: 'Echo: hi' }]);
    for (let i = 1; i <= 4; i++)
      expect((await say('rl-boss', 'boss', `admin ${i}`)).body.replies).toEqual([{ text: `Echo: admin ${i}` }]);
  });

  it('caps replies per conversation per minute: past the cap, turns are consumed silently', async () => {
    await awayFromMinuteEdge();
    const outcomes = [];
    for (let i = 1; i <= 6; i++) {
      const res = await app.post('/local/messages', {
        conversation: 'loop-room',
        user: `bot-${i}`,
        text: `ping ${i}`,
        kind: 'group',
        wait: true,
      });
      outcomes.push({ replies: res.body.replies.length, outcome: await turnOutcome(app, res.body.turnId) });
    }
    expect(outcomes).toEqual([
      ...[1, 2, 3, 4].map(() => ({ replies: 1, outcome: 'replied' })),
      { replies: 0, outcome: 'loop_guard' },
      { replies: 0, outcome: 'loop_guard' },
    ]);
  });

  it('refuses text over MAX_INPUT_CHARS at ingress with 413 naming the limit (nothing is queued)', async () => {
    const res = await app.post('/local/messages', {
      conversation: 'big',
      user: 'ann',
      text: 'x'.repeat(501),
      kind: 'dm',
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('message too long: 501 characters, the limit is 500');
  });
});

describe('limits under at-least-once turns', () => {
  // A turn is attempted again after a crash or a deferral: the same messages must not be charged twice.
  it('charges each message once, however often its turn is attempted', async () => {
    const prefix = uniqueName('lim');
    const redis = new Redis(REDIS_URL);
    const keys = accessKeys(prefix);
    const s = { perMinute: 1, burst: 3 };
    const now = Date.now();
    try {
      for (let attempt = 0; attempt < 5; attempt++)
        expect(await takeTokens(redis, keys, 'local:u', ['m1', 'm2'], s)).toBe(true);
      expect(await takeTokens(redis, keys, 'local:u', ['m1', 'm2', 'm3'], s)).toBe(true); // only m3 is new
      expect(await takeTokens(redis, keys, 'local:u', ['m4'], s)).toBe(false); // the bucket is empty now
      expect(await takeTokens(redis, keys, 'local:u', ['m1', 'm2', 'm3'], s)).toBe(true);

      for (let attempt = 0; attempt < 5; attempt++)
        expect(await allowReply(redis, keys, 'c1', 'turn-a', 2, now)).toBe(true);
      expect(await allowReply(redis, keys, 'c1', 'turn-b', 2, now)).toBe(true);
      expect(await allowReply(redis, keys, 'c1', 'turn-c', 2, now)).toBe(false);
    } finally {
      redis.disconnect();
      await cleanRedisPrefix(prefix);
    }
  });
});

describe('daily token budget', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { USER_DAILY_TOKEN_BUDGET: '40', ADMIN_USERS: 'local:boss' } });
  });
  afterAll(async () => app?.close());
  const say = (user: string, text: string) =>
    app.post('/local/messages', { conversation: `b-${user}`, user, text, kind: 'dm', wait: true });

  it('refuses politely once the day is spent, shows it in /usage, and leaves other users alone', async () => {
    const texts: string[] = [];
    for (let i = 1; i <= 6 && !texts.includes(budgetText(40)); i++)
      texts.push((await say('spender', `tell me something ${i}`)).body.replies[0].text);
    expect(texts.at(-1)).toBe(budgetText(40));
    expect(texts.slice(0, -1).every((t) => t.startsWith('Echo: '))).toBe(true);
    expect(texts.length).toBeGreaterThan(1);
    // Refused turns cost nothing and stay refused.
    expect((await say('spender', 'and now?')).body.replies[0].text).toBe(budgetText(40));

    const usage = (
      await app.post('/local/messages', { conversation: 'b-spender', user: 'spender', kind: 'dm', text: '/usage' })
    ).body.replies[0].text;
    expect(usage).toMatch(/today: \d+ tokens in \d+ turns \(daily budget 40, 0 left\)/);
    expect((await say('thrifty', 'hello')).body.replies[0].text).toBe('Echo: hello');
    // Admins are not held to the budget.
    for (let i = 1; i <= 4; i++) expect((await say('boss', `report ${i}`)).body.replies[0].text).toMatch(/^Echo: /);
  });
});
