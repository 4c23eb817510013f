/**
 * The send call itself: a worker killed after Slack posted a part but before Slack's answer reached it. Without
 * help the retried delivery would post the part again; with the "sending" mark and the part's metadata, it asks
 * Slack (conversations.history) first, finds the part and records it instead. Real processes, the real Slack
 * client against the loopback fake Slack, and SIGKILL.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { dmMessage, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.js';
import { settleForDuplicates } from '../helpers/settle.js';
import { until } from '../helpers/wait.js';

const SECRET = 'send-window-signing-secret';
const prefix = uniqueName('sendwin');
let db: TestDatabase;
let sql: postgres.Sql;
let slack: FakeSlack;
const procs: RoleProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  slack = await new FakeSlack({ botUserId: 'UBOTSW' }).start();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await sql?.end();
  await slack?.close();
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

it('a worker killed while Slack holds its answer to a post: the part is found in Slack, not posted again', async () => {
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    JOB_LOCK_MS: '3000',
    SLACK_BOT_TOKEN: 'xoxb-send-window',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_USER_ID: 'UBOTSW',
  };
  const gateway = await spawnRole('gateway', env);
  const worker = await spawnRole('worker', env);
  procs.push(gateway, worker);

  const channel = 'D0SENDW';
  const say = async (text: string) => {
    const event = envelope(dmMessage({ channel, user: 'U0SENDW', ts: nextSlackTs(), text }));
    expect((await postSigned(`${gateway.url}/slack/events`, SECRET, event)).status).toBe(200);
  };
  slack.holdPostAnswer(30_000); // posted at once; the worker never hears back
  await say('count my replies');
  await until(
    () => Promise.resolve(slack.messages.in(channel).length),
    (n) => n >= 1,
  );
  await worker.kill('SIGKILL');

  procs.push(await spawnRole('worker', env)); // picks the delivery up once the dead worker's lock lapses
  await until(
    async () => (await sql`select status from outbox`)[0]?.status,
    (s) => s === 'sent',
    20_000,
  );
  await settleForDuplicates('slack');
  const posted = slack.messages.in(channel);
  expect(posted.map((m) => m.text)).toEqual(['Echo: count my replies']);
  expect(slack.callsOf('conversations.history', channel).length).toBeGreaterThanOrEqual(1);
  // The receipt names the message Slack made, found through its metadata.
  expect(await sql`select part_index, platform_message_id from receipts`).toEqual([
    { part_index: 0, platform_message_id: posted[0]!.ts },
  ]);

  // The conversation goes on: the next message is answered once, as usual.
  await say('and this one');
  await until(
    () => Promise.resolve(slack.messages.in(channel).length),
    (n) => n >= 2,
    20_000,
  );
  await settleForDuplicates('slack');
  expect(slack.messages.in(channel).map((m) => m.text)).toEqual(['Echo: count my replies', 'Echo: and this one']);
}, 90_000);
