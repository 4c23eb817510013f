/**
 * The "sent but no receipt" window, closed on both sides. A worker that sent a part and is killed while its receipt
 * write waits for the database must not leave that part to be sent again; nor may one killed inside the send call
 * itself, after Slack posted the part but before Slack's answer reached it (the "sending" mark and the part's
 * metadata: the retried delivery asks Slack first). Real processes, the real Slack client against the loopback
 * fake Slack, and SIGKILL.
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { dmMessage, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.js';
import { settleForDuplicates } from '../helpers/settle.js';
import { sleep, until } from '../helpers/wait.js';

const SECRET = 'receipt-window-signing-secret';
const prefix = uniqueName('rcptwin');
let db: TestDatabase;
let sql: postgres.Sql;
let slack: FakeSlack;
const procs: RoleProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  slack = await new FakeSlack({ botUserId: 'UBOTRW' }).start();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await sql?.end();
  await slack?.close();
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

const env = () => ({
  DATABASE_URL: db.url,
  REDIS_URL,
  KEY_PREFIX: prefix,
  OFFLINE_MODEL: 'true',
  JOB_LOCK_MS: '3000',
  SLACK_BOT_TOKEN: 'xoxb-receipt-window',
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.apiUrl,
  SLACK_BOT_USER_ID: 'UBOTRW',
});

/** A gateway and a worker of this test's own: the previous test's are gone, so its worker cannot take the work. */
async function roles() {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  const gateway = await spawnRole('gateway', env());
  const worker = await spawnRole('worker', env());
  procs.push(gateway, worker);
  return { gateway, worker };
}

/** A new worker picks the delivery up once the dead worker's lock lapses; then any second copy would have come. */
async function takeOver(channel: string) {
  procs.push(await spawnRole('worker', env()));
  await until(
    () => outboxStatus(channel),
    (s) => s === 'sent',
    20_000,
  );
  await settleForDuplicates('slack');
}

const outboxStatus = async (channel: string) =>
  (await sql`select status from outbox where ref->>'channel' = ${channel}`)[0]?.status;
const receiptsOf = (channel: string) => sql`select part_index, platform_message_id from receipts
  where turn_id in (select turn_id from outbox where ref->>'channel' = ${channel})`;

it('a worker killed while its receipt write waits out a database failure: the part is not sent again', async () => {
  const { gateway, worker } = await roles();

  // Receipts can be read but not written: the worker sends, then retries its receipt write in place.
  await sql`alter table receipts add constraint receipts_blocked check (false) not valid`;
  const channel = 'D0RCPT';
  const event = envelope(dmMessage({ channel, user: 'U0RCPT', ts: nextSlackTs(), text: 'count my replies' }));
  expect((await postSigned(`${gateway.url}/slack/events`, SECRET, event)).status).toBe(200);
  await until(
    () => Promise.resolve(slack.posted(channel).length),
    (n) => n >= 1,
  );
  await sleep(300); // the receipt write is failing and being retried now
  await worker.kill('SIGKILL');
  await sql`alter table receipts drop constraint receipts_blocked`;

  await takeOver(channel);
  expect(slack.posted(channel).map((c) => c.body.text)).toEqual(['Echo: count my replies']);
  // Healed from the Redis mark (written the moment Slack answered), not looked up in Slack.
  expect((await receiptsOf(channel)).map((r) => r.part_index)).toEqual([0]);
  expect(slack.callsOf('conversations.history', channel)).toEqual([]);
  const redis = new Redis(REDIS_URL);
  expect(await redis.keys(`${prefix}:sent:*`)).toEqual([]); // and the mark is gone once the receipt is written
  redis.disconnect();
}, 60_000);

it('a worker killed while Slack holds its answer to a post: the part is found in Slack, not posted again', async () => {
  const { gateway, worker } = await roles();
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

  await takeOver(channel);
  const posted = slack.messages.in(channel);
  expect(posted.map((m) => m.text)).toEqual(['Echo: count my replies']);
  expect(slack.callsOf('conversations.history', channel).length).toBeGreaterThanOrEqual(1);
  // The receipt names the message Slack made, found through its metadata.
  expect(await receiptsOf(channel)).toEqual([{ part_index: 0, platform_message_id: posted[0]!.ts }]);

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
