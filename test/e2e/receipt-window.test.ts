/**
 * The "sent but no receipt" window stays one call wide even when the database is away: a worker that sent a part
 * and is killed while its receipt write waits for the database must not leave that part to be sent again.
 * Real processes, the real Slack client against the loopback fake Slack, and SIGKILL.
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

it('a worker killed while its receipt write waits out a database failure: the part is not sent again', async () => {
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEY_PREFIX: prefix,
    OFFLINE_MODEL: 'true',
    JOB_LOCK_MS: '3000',
    SLACK_BOT_TOKEN: 'xoxb-receipt-window',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_USER_ID: 'UBOTRW',
  };
  const gateway = await spawnRole('gateway', env);
  const worker = await spawnRole('worker', env);
  procs.push(gateway, worker);

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

  procs.push(await spawnRole('worker', env)); // picks the delivery up once the dead worker's lock lapses
  await until(
    async () => (await sql`select status from outbox`)[0]?.status,
    (s) => s === 'sent',
    20_000,
  );
  await settleForDuplicates('slack');
  expect(slack.posted(channel).map((c) => c.body.text)).toEqual(['Echo: count my replies']);
  expect(await sql`select part_index from receipts`).toEqual([{ part_index: 0 }]); // healed from the Redis mark
  const redis = new Redis(REDIS_URL);
  expect(await redis.keys(`${prefix}:sent:*`)).toEqual([]); // and the mark is gone once the receipt is written
  redis.disconnect();
}, 60_000);
