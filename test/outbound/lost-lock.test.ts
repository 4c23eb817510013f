/**
 * A delivery whose job lock lapses mid-reply (a Redis outage longer than the lock, a starved event loop) is handed
 * to another worker by BullMQ while the first is still sending. The first must stop before its next part, or both
 * send the parts that have no receipt yet and the user sees them twice.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { longReply } from '../../src/agent/offline-model.js';
import { keys } from '../../src/queue/keys.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { BOT, dmMessage, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';
import { sleep, until } from '../helpers/wait.js';

const SECRET = 'lost-lock-signing-secret';
let fake: FakeSlack;
let app: TestApp;
let redis: Redis;
let outbound: Queue;

beforeAll(async () => {
  fake = await new FakeSlack({ botUserId: BOT }).start();
  app = await startTestApp({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-lost-lock',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_USER_ID: BOT,
    },
  });
  redis = new Redis(REDIS_URL);
  outbound = new Queue('outbound', { connection: redis, prefix: keys(app.config.KEY_PREFIX).bullPrefix });
});
afterAll(async () => {
  await outbound?.close();
  redis?.disconnect();
  await app?.close();
  await fake?.close();
});

it('sends every part of a long reply exactly once when the delivery lock is lost after the first part', async () => {
  const channel = 'D0LOCK';
  const event = envelope(dmMessage({ channel, user: 'U0LOCK', ts: nextSlackTs(), text: 'a long one [[long:16000]]' }));
  expect((await postSigned(`${app.url}/slack/events`, SECRET, event)).status).toBe(200);
  const expected = app.adapters.get('slack')!.render(longReply(16_000));
  expect(expected.length).toBeGreaterThanOrEqual(4); // paced at 1 s a part: the delivery outlives the 3 s lock

  await until(
    () => Promise.resolve(fake.posted(channel).length),
    (n) => n >= 1,
  );
  const [job] = await outbound.getActive();
  expect(job).toBeDefined();
  // What a lapsed lock looks like to BullMQ: the lock key is gone, so the stalled checker hands the job on.
  await redis.del(`${keys(app.config.KEY_PREFIX).bullPrefix}:outbound:${job!.id}:lock`);

  await until(
    () => Promise.resolve(fake.posted(channel).length),
    (n) => n >= expected.length,
    30_000,
  );
  await sleep(2_500); // anything doubled would arrive by now
  expect(fake.posted(channel).map((c) => c.body.text)).toEqual(expected);
}, 45_000);
