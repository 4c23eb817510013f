/**
 * A turn job can find its conversation's inbox empty (a second job for a batch already taken, a sweep, a settled
 * approval). It must end there: no next turn is scheduled for nothing, or one job would follow another for ever and
 * keep every worker busy.
 */
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { Queues } from '../../src/queue/queues.js';
import { createRedis } from '../../src/queue/redis.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { REDIS_URL } from '../helpers/services.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

it('a turn on an empty inbox completes once and schedules nothing after it', async () => {
  const first = await app.post('/local/messages', { conversation: 'quiet', user: 'ann', text: 'hi', wait: true });
  expect(first.body.replies).toEqual([{ text: 'Echo: [ann] hi' }]);
  const redis = createRedis(REDIS_URL);
  const keys = makeKeys(app.config.KEY_PREFIX);
  const queues = new Queues(redis, keys);
  // Every turn job added while we watch: the one scheduled here, and with the bug one after another.
  // Read from the start of the events stream and keep what was added from `since` on (event ids are ms-seq).
  const events = new QueueEvents('turns', {
    connection: createRedis(REDIS_URL),
    prefix: keys.bullPrefix,
    lastEventId: '0-0',
  });
  const added: string[] = [];
  const since = Date.now();
  events.on('added', ({ jobId }, id) => {
    if (Number(id.split('-')[0]) >= since) added.push(jobId);
  });
  await events.waitUntilReady();
  try {
    await queues.scheduleTurn('local:default:quiet');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(added).toHaveLength(1);
    const turns = queues.turns;
    const counts = await turns.getJobCounts('active', 'wait', 'delayed');
    expect((counts.active ?? 0) + (counts.wait ?? 0) + (counts.delayed ?? 0)).toBe(0);
  } finally {
    await events.close();
    await queues.close();
    redis.disconnect();
  }
});
