/** Secrets never reach logs, errors or job data: checked by looking at everything the pipeline wrote. */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../src/observability/logger.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { signedHeaders } from '../fakes/slack/requests.js';

const BOT_TOKEN = 'xoxb-SECRET-bot-token-111';
const SIGNING = 'SECRET-signing-secret-222';
const VERIFY = 'SECRET-verification-token-333';
const lines: string[] = [];
let app: TestApp;
let slack: FakeSlack;

beforeAll(async () => {
  slack = await new FakeSlack().start();
  const log = pino(
    { level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    { write: (l: string) => void lines.push(l) },
  );
  app = await startTestApp({
    log,
    env: {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING,
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_USER_ID: 'UBOT',
    },
  });
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
});

async function dumpRedis(prefix: string): Promise<string> {
  const r = new Redis(REDIS_URL);
  let out = '';
  for (const key of await r.keys(`${prefix}:*`)) {
    const type = await r.type(key);
    if (type === 'string') out += await r.get(key);
    else if (type === 'hash') out += JSON.stringify(await r.hgetall(key));
    else if (type === 'stream') out += JSON.stringify(await r.xrange(key, '-', '+'));
    else if (type === 'list') out += JSON.stringify(await r.lrange(key, 0, -1));
    else if (type === 'set') out += JSON.stringify(await r.smembers(key));
    else if (type === 'zset') out += JSON.stringify(await r.zrange(key, '0', '-1'));
  }
  r.disconnect();
  return out;
}

it('keeps tokens out of logs and out of everything stored in Redis, while still answering', async () => {
  const body = JSON.stringify({
    token: VERIFY,
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: 'EvSecret1',
    event_time: 1,
    event: {
      type: 'message',
      channel: 'D1',
      channel_type: 'im',
      user: 'U1',
      text: 'hello with secrets around',
      ts: '1700000000.000001',
    },
  });
  const res = await fetch(`${app.url}/slack/events`, { method: 'POST', headers: signedHeaders(SIGNING, body), body });
  expect(res.status).toBe(200);
  // Also a forged request, whose error path must not echo the secret either.
  const forged = await fetch(`${app.url}/slack/events`, {
    method: 'POST',
    headers: signedHeaders('wrong', body),
    body,
  });
  expect(forged.status).toBe(401);
  expect(await forged.text()).not.toContain(SIGNING);
  for (let i = 0; i < 100 && !slack.calls.some((c) => c.method === 'chat.postMessage'); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(
    slack.calls.some(
      (c) => c.method === 'chat.postMessage' && String(c.body.text).includes('hello with secrets around'),
    ),
  ).toBe(true);
  expect(slack.calls.find((c) => c.method === 'chat.postMessage')!.auth).toBe(`Bearer ${BOT_TOKEN}`); // it was used...

  const logs = lines.join('\n');
  expect(lines.length).toBeGreaterThan(5);
  const stored = await dumpRedis(app.config.KEY_PREFIX);
  expect(stored.length).toBeGreaterThan(100); // queues, dedupe marks, local history: there is plenty to look at
  for (const secret of [BOT_TOKEN, SIGNING, VERIFY]) {
    expect(logs, 'logs').not.toContain(secret);
    expect(stored, 'redis').not.toContain(secret);
  }
  expect(logs).not.toContain('hello with secrets around'); // message bodies are redacted in logs by default
});
