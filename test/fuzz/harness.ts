/**
 * One real app with every ingress on (local, Slack, Discord, Telegram webhook, agent API) against the loopback
 * fakes, and the checks every fuzz property ends with: each request got a 2xx or a clear 4xx in bounded time, the
 * process is healthy, every inbox entry is a valid event, and every inbox drains (a turn was scheduled for it).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { createApiKey } from '../../src/api/index.js';
import { inboundEventSchema } from '../../src/core/types.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { QUEUE_OUTBOUND, keys } from '../../src/queue/keys.js';
import { FakeDiscord, createSigner, type TestSigner } from '../fakes/discord/index.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { startFakeBotApi, type FakeBotApi } from '../fakes/telegram/fake-bot-api.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

export const SLACK_SECRET = 'fuzz-signing-secret';
export const SLACK_BOT = 'UBOTFUZZ1';
export const TELEGRAM_SECRET = 'fuzz_webhook-Secret';
/** In every base payload's user text: it must never show up in a log line. */
export const CANARY = 'canary7f3q';
/** A request answered later than this counts as a hang. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface FuzzApp {
  app: TestApp;
  slack: FakeSlack;
  discord: FakeDiscord;
  signer: TestSigner;
  telegram: FakeBotApi;
  database: Database;
  apiKey: string;
  redis: Redis;
  /** Every line the app logged (info and up), with the production redaction. */
  logs: string[];
  close(): Promise<void>;
}

export async function startFuzzApp(): Promise<FuzzApp> {
  const slack = await new FakeSlack({ botUserId: SLACK_BOT }).start();
  const discord = await new FakeDiscord().start();
  discord.echoOwnMessages = true;
  const signer = createSigner();
  const telegram = await startFakeBotApi();
  const logs: string[] = [];
  // The app's own logger (serializers, redaction), writing where the suite can read it.
  const log = createLogger('info', 'gateway', { write: (s: string) => void logs.push(s) });
  const app = await startTestApp({
    log,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-fuzz',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: SLACK_BOT,
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: '1100000000000000000',
      DISCORD_PUBLIC_KEY: signer.publicKeyHex,
      DISCORD_API_URL: discord.apiUrl,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_API_ROOT: telegram.url,
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      // The fuzz traffic must not trip the per-user limits, or "a normal message is answered" would test those.
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_BURST: '1000000',
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      API_RATE_BURST: '1000000',
    },
    // No self-healing sweep during the suite: an inbox entry without a scheduled turn must show, not be healed.
    sweepEveryMs: 3_600_000,
  });
  await waitFor(() => app.adapters.get('discord')?.health().state === 'up', 'discord gateway up');
  const database = openDatabase(app.db.url, 2);
  const apiKey = (await createApiKey(database.db, 'fuzz')).key;
  const redis = new Redis(REDIS_URL);
  return {
    app,
    slack,
    discord,
    signer,
    telegram,
    database,
    apiKey,
    redis,
    logs,
    async close() {
      redis.disconnect();
      await database.close();
      await app.close();
      await slack.close();
      await discord.stop();
      await telegram.close();
    },
  };
}

export interface Answer {
  status: number;
  text: string;
}

/** One request with a deadline: a hang fails the property like a 5xx does. */
export async function request(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Answer> {
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: res.status, text: await res.text() };
}

/** 2xx or a clear 4xx (with a body that says what was wrong), never a 5xx. */
export function expectClearAnswer(a: Answer, what: string): void {
  expect(a.status, `${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
  expect(a.status, `${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`).toBeLessThan(500);
}

/** Health, inbox contents and inbox draining: what must hold after any amount of fuzzing. */
/** `platform`: whose inboxes must drain (one ingress's wedged conversation should not fail the next one's check). */
export async function expectHealthyAndDrained(f: FuzzApp, platform: string): Promise<void> {
  const leaked = f.logs.filter((l) => l.includes(CANARY));
  expect(
    leaked.map((l) => l.slice(0, 300)),
    'log lines quoting user text',
  ).toEqual([]);
  for (const path of ['/healthz', '/readyz']) {
    const res = await fetch(f.app.url + path, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(res.status, `${path} ${await res.text()}`).toBe(200);
  }
  const k = keys(f.app.config.KEY_PREFIX);
  for (const conversation of await f.redis.smembers(k.inboxes)) {
    for (const [, fields] of await f.redis.xrange(k.inbox(conversation), '-', '+')) {
      const parsed = inboundEventSchema.safeParse(JSON.parse(fields[fields.indexOf('e') + 1] ?? 'null'));
      expect(parsed.success, `inbox entry of ${conversation} fails the event schema`).toBe(true);
    }
  }
  // With the sweeper off, an inbox drains only if its turn was scheduled and the turn could commit.
  const mine = async () => (await f.redis.smembers(k.inboxes)).filter((c) => c.startsWith(`${platform}:`));
  const left = await waitFor(
    async () => ((await mine()).length === 0 ? 'drained' : undefined),
    `every ${platform} inbox drained`,
    45_000,
  ).catch(mine);
  expect(left, 'conversations whose inbox never drained').toBe('drained');
  // And the replies to the fuzz traffic are out (Slack and Discord pace sends per channel), so the normal message
  // that follows is measured on its own.
  const outbound = new Queue(QUEUE_OUTBOUND, { connection: f.redis, prefix: k.bullPrefix });
  try {
    await waitFor(
      async () => {
        const c = await outbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        return Object.values(c).every((n) => n === 0);
      },
      'every reply delivered',
      90_000,
    );
  } finally {
    await outbound.close();
  }
}
