/**
 * The set-up the Slack pipeline tests share: the loopback fake Slack, an app started from SLACK_* env and a
 * Postgres client on its database, plus helpers to post signed events and read what the fake received. The fake
 * echoes every post back as the bot's own `message` event, as Slack does. Call `useSlackPipeline()` at the top of a
 * test file; `fake`, `app` and `sql` are live bindings, set before its tests run.
 */
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { BOT, envelope, postSigned, type PostResult } from '../../fakes/slack/requests.js';
import { FakeSlack, type RecordedCall } from '../../fakes/slack/fake-slack.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';

export const SECRET = 'pipeline-signing-secret-0123';
export const TOKEN = 'xoxb-pipeline-token';
/** Slack wants every Events API / slash-command request answered within 3 s, or it retries. */
export const SLACK_ACK_DEADLINE_MS = 3_000;

export let fake: FakeSlack;
export let app: TestApp;
export let sql: postgres.Sql;

export function useSlackPipeline(): void {
  beforeAll(async () => {
    fake = await new FakeSlack({ botUserId: BOT }).start();
    app = await startTestApp({
      env: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_BOT_USER_ID: BOT },
    });
    fake.echoTo = { url: `${app.url}/slack/events`, signingSecret: SECRET };
    sql = postgres(app.db.url, { max: 2, onnotice: () => undefined });
  });

  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await fake?.close();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `ok` (at most `ms`), then return the last value: the assertions after it say what went wrong. */
export async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await sleep(50);
  }
}

export const event = (
  e: Record<string, unknown>,
  opts: { eventId?: string; retryNum?: number } = {},
): Promise<PostResult> =>
  postSigned(`${app.url}/slack/events`, SECRET, envelope(e, opts.eventId), { retryNum: opts.retryNum });

export const texts = (calls: RecordedCall[]) => calls.map((c) => String(c.body.text));
export const echo = (text: string, who?: string) => (who ? `Echo: [${who}] ${text}` : `Echo: ${text}`);

/** The text of a stored Agents SDK item (user items are strings, assistant items output_text parts). */
export function itemText(item: { content?: unknown }): string {
  const c = item.content;
  if (typeof c === 'string') return c;
  return Array.isArray(c) ? c.map((p: { text?: string }) => p.text ?? '').join('') : '';
}
