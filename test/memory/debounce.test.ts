/**
 * Extraction is debounced per user: a burst of turns lands on ONE durable BullMQ job, which then extracts every
 * fact of the burst. Checked on the scheduler itself (real Redis) and through the whole pipeline.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtractionScheduler, QUEUE_MEMORY } from '../../src/memory/jobs/pending.js';
import { keys } from '../../src/queue/keys.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { cleanRedisPrefix, REDIS_URL, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

describe('extraction scheduler', () => {
  const prefix = uniqueName('tmem');
  let redis: Redis;
  let scheduler: ExtractionScheduler;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    scheduler = new ExtractionScheduler(redis, redis, prefix, `${prefix}:bull`, 60_000);
  });
  afterAll(async () => {
    await scheduler.close();
    redis.disconnect();
    await cleanRedisPrefix(prefix);
  });

  it('a burst of 20 schedules for one user is one delayed job; another user gets their own', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => scheduler.schedule('local:default:u1', `local:default:c${i % 3}`)),
    );
    await scheduler.schedule('local:default:u2', 'local:default:c9');
    const counts = await scheduler.jobs.getJobCounts('delayed', 'waiting', 'active');
    expect(counts).toEqual({ delayed: 2, waiting: 0, active: 0 });
    const jobs = await scheduler.jobs.getDelayed();
    expect(jobs.map((j) => j.data.userKey).sort()).toEqual(['local:default:u1', 'local:default:u2']);
    // The job carries only the user; which conversations to read is kept per user, once each.
    expect((await scheduler.pending('local:default:u1')).map((p) => p.conversationKey).sort()).toEqual([
      'local:default:c0',
      'local:default:c1',
      'local:default:c2',
    ]);
  });
});

describe('a burst of 20 messages through the pipeline', () => {
  let app: TestApp;
  beforeAll(async () => {
    // Long enough that every turn of the burst commits before the job fires (turns take milliseconds offline).
    app = await startTestApp({ env: { MEMORY_EXTRACT_DELAY_MS: '2500' } });
  });
  afterAll(async () => app?.close());

  it('triggers one extraction job, which stores the facts of the whole burst', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `my locker ${i} is number ${100 + i}`);
    for (const text of texts)
      expect((await app.post('/local/messages', { conversation: 'burst', user: 'zoe', text, kind: 'dm' })).status).toBe(
        202,
      );
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_MEMORY, { connection: conn, prefix: keys(app.config.KEY_PREFIX).bullPrefix });
    try {
      const facts = await waitFor(
        async () => {
          const all = await app.services.memory!.listMemories('local:default:zoe');
          return all.length === 20 && all;
        },
        '20 facts',
        15_000,
      );
      expect(facts.map((m) => m.text)).toContain("The user's locker 7 is number 107.");
      // The facts are stored a moment before the job itself is marked completed.
      const counts = await waitFor(
        async () => {
          const c = await queue.getJobCounts('completed', 'failed', 'delayed', 'waiting', 'active');
          return c.active === 0 && c;
        },
        'the extraction job to finish',
        5_000,
      );
      expect(counts).toEqual({ completed: 1, failed: 0, delayed: 0, waiting: 0, active: 0 });
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });
});
