/**
 * No user text in any log line, at any level, on any failure path: a sentinel is sent through commit failures and
 * dead-lettering (a raw NUL entry: Postgres refuses it and the driver's error carries the SQL parameters), a model
 * failure, a delivery failure whose platform answer echoes the text, a memory extraction failure, and invalid
 * input. Everything the app logs at trace level, through the production logger, must be free of it.
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { conversationKey, type InboundEvent } from '../../src/core/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { Inbox } from '../../src/queue/inbox.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { signedHeaders } from '../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SENTINEL = 'zebra-sentinel-7Q4';
const SIGNING = 'signing-secret-for-sentinel';
const lines: string[] = [];
let app: TestApp;
let slack: FakeSlack;
let redis: Redis;
let sql: postgres.Sql;

beforeAll(async () => {
  slack = await new FakeSlack().start();
  const log = createLogger('trace', 'gateway', { write: (l: string) => void lines.push(l) });
  app = await startTestApp({
    log,
    env: {
      LOG_LEVEL: 'trace',
      DEADLETTER_AFTER_ATTEMPTS: '2',
      RATE_LIMIT_PER_MINUTE: '0',
      MEMORY_EXTRACT_DELAY_MS: '50',
      SLACK_BOT_TOKEN: 'xoxb-sentinel',
      SLACK_SIGNING_SECRET: SIGNING,
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: 'UBOT',
    },
  });
  redis = new Redis(REDIS_URL);
  sql = postgres(app.db.url, { max: 1, onnotice: () => undefined });
});
afterAll(async () => {
  await sql?.end();
  redis?.disconnect();
  await app?.close();
  await slack?.close();
});

const logged = (msg: string) => lines.some((l) => l.includes(`"msg":"${msg}`));

it('keeps the text out of every log line on every failure path it can reach', async () => {
  const k = makeKeys(app.config.KEY_PREFIX);

  // 1. Commit failure, retries and the dead letter: a NUL the sanitiser never saw.
  const at = new Date().toISOString();
  const poison: InboundEvent = {
    id: 'local:sentinel-poison',
    platform: 'local',
    tenant: 'default',
    conversation: { platform: 'local', tenant: 'default', channel: 'c-s1', kind: 'group' },
    sender: { id: 'u1', name: `name ${SENTINEL}`, isBot: false },
    text: `my text ${SENTINEL}\u0000`,
    attachments: [{ name: `${SENTINEL}.txt` }],
    mentionsBot: true,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  };
  const queues = new Queues(redis, k);
  await new Inbox(redis, k, 3600).append(conversationKey(poison.conversation), poison);
  await queues.scheduleTurn(conversationKey(poison.conversation));
  await queues.close();
  await waitFor(async () => (await redis.hlen(k.deadLetters)) === 1, 'the dead letter', 60_000);

  // 2. A model failure.
  const failed = await app.post('/local/messages', {
    conversation: 'c-s2',
    user: 'u2',
    text: `[[fail]] ${SENTINEL}`,
    wait: true,
  });
  expect(failed.status).toBe(200);

  // 3. A delivery failure whose platform answer quotes the text (twice), then success.
  slack.failNext('chat.postMessage', { status: 500, body: `could not post "${SENTINEL}"` });
  slack.failNext('chat.postMessage', { error: `invalid_blocks: ${SENTINEL}` });
  const body = JSON.stringify({
    token: 't',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: 'EvSentinel1',
    event_time: 1,
    event: {
      type: 'message',
      channel: 'D1',
      channel_type: 'im',
      user: 'U1',
      text: `hello ${SENTINEL}`,
      ts: '1700000000.000001',
    },
  });
  expect(
    (await fetch(`${app.url}/slack/events`, { method: 'POST', headers: signedHeaders(SIGNING, body), body })).status,
  ).toBe(200);
  await waitFor(
    () => slack.calls.some((c) => c.method === 'chat.postMessage' && c.ok),
    'the Slack post after two failures',
    60_000,
  );
  expect(slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.ok)).toHaveLength(2);

  // 4. A memory extraction failure (the store's table is away while the fact is written).
  await sql`alter table memories rename to memories_away`;
  try {
    await app.post('/local/messages', {
      conversation: 'c-s4',
      user: 'u4',
      text: `remember that my password is ${SENTINEL}`,
      wait: true,
    });
    await waitFor(() => logged('memory extraction failed'), 'the extraction failure', 60_000);
  } finally {
    await sql`alter table memories_away rename to memories`;
  }

  // 5. Invalid input.
  expect(
    (await app.post('/local/messages', { conversation: `bad ${SENTINEL}`, user: 'u5', text: SENTINEL })).status,
  ).toBe(400);
  expect((await app.post('/local/messages', `{"conversation":"c-s5","text":"${SENTINEL}`)).status).toBe(400);
  await sleep(500);

  // The paths really ran and were logged...
  for (const msg of [
    'job failed; will retry',
    'turn failed for a reason retrying cannot fix',
    'turn dead-lettered',
    'model failed after retries',
    'memory extraction failed',
  ]) {
    expect(logged(msg), msg).toBe(true);
  }
  expect(lines.some((l) => l.includes('"code":"22'))).toBe(true); // ...with the SQLSTATE, which is what an operator needs
  // ...and the text is nowhere.
  const all = lines.join('\n');
  expect(lines.length).toBeGreaterThan(30);
  if (process.env.SHOW_LOGS) console.log(lines.map((l) => JSON.parse(l).msg).join('\n'));
  expect(all).not.toContain(SENTINEL);
}, 180_000);
