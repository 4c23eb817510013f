/** Crons through the real SDK client: create for a thread (and it fires runs), stateless, search, update, delete; BullMQ schedulers follow. */
import type { Client } from '@langchain/langgraph-sdk';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_QUEUE } from '../../src/api/ids.js';
import { keys as makeKeys } from '../../src/queue/keys.js';
import { REDIS_URL } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { lastAi, startApiApp, statusOf, userInput, type ApiTestApp } from './helpers.js';

let app: ApiTestApp;
let client: Client;
let other: Client;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  app = await startApiApp();
  client = (await app.newClient('crons')).client;
  other = (await app.newClient('crons-other')).client;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(CRON_QUEUE, { connection: redis, prefix: makeKeys(app.config.KEY_PREFIX).bullPrefix });
});
afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await app?.close();
});

const schedulerIds = async () => (await queue.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key);

describe('crons', () => {
  it('a thread cron fires runs on its thread through the normal run path; delete stops it', async () => {
    const t = await client.threads.create();
    const cron = await client.crons.createForThread(t.thread_id, 'agent', {
      schedule: '* * * * * *',
      input: userInput('tick'),
    });
    expect(cron).toMatchObject({ thread_id: t.thread_id, schedule: '* * * * * *', enabled: true });
    expect(typeof cron.next_run_date).toBe('string');
    expect((await schedulerIds()).some((id) => id?.includes(cron.cron_id))).toBe(true);

    const runs = await waitFor(
      async () => {
        const r = await client.runs.list(t.thread_id, { status: 'success' });
        return r.length ? r : null;
      },
      'a cron firing to complete a run',
      10_000,
    );
    expect(runs[0]!.multitask_strategy).toBe('enqueue');
    expect(lastAi((await client.threads.getState(t.thread_id)).values)).toMatch(/tick$/);

    await client.crons.delete(cron.cron_id);
    expect((await schedulerIds()).some((id) => id?.includes(cron.cron_id))).toBe(false);
    expect(await client.crons.search({ threadId: t.thread_id })).toEqual([]);
    // No new firings after the delete (let anything already enqueued finish first).
    await sleep(1_200);
    const settled = (await client.runs.list(t.thread_id, { limit: 100 })).length;
    await sleep(1_500);
    expect((await client.runs.list(t.thread_id, { limit: 100 })).length).toBe(settled);
    expect(await statusOf(client.crons.delete(cron.cron_id))).toBe(404);
  });

  it('stateless crons: create, search, count, update and delete; schedulers follow; other keys see none', async () => {
    const c1 = await client.crons.create('agent', { schedule: '0 9 * * *', input: userInput('good morning') });
    const c2 = await client.crons.create('agent', { schedule: '0 18 * * 1-5', input: userInput('good evening') });
    expect(c1.thread_id).toBeNull();
    expect(new Date(c1.next_run_date!).getUTCHours()).toBe(9);

    const found = await client.crons.search({ limit: 10 });
    expect(found.map((c) => c.cron_id).sort()).toEqual([c1.cron_id, c2.cron_id].sort());
    expect(await client.crons.count()).toBe(2);
    expect(await other.crons.search()).toEqual([]);
    expect(await statusOf(other.crons.delete(c1.cron_id))).toBe(404);
    const ids = await schedulerIds();
    expect(ids.filter((id) => id?.includes(c1.cron_id) || id?.includes(c2.cron_id))).toHaveLength(2);

    const disabled = await client.crons.update(c2.cron_id, { enabled: false });
    expect(disabled.enabled).toBe(false);
    expect((await schedulerIds()).some((id) => id?.includes(c2.cron_id))).toBe(false);

    await client.crons.delete(c1.cron_id);
    await client.crons.delete(c2.cron_id);
    expect(await client.crons.search()).toEqual([]);
    expect((await schedulerIds()).some((id) => id?.includes(c1.cron_id))).toBe(false);
  });

  it('refuses an invalid schedule (422) and a cron on a missing thread (404)', async () => {
    expect(await statusOf(client.crons.create('agent', { schedule: 'every day please', input: userInput('x') }))).toBe(
      422,
    );
    expect(
      await statusOf(
        client.crons.createForThread(crypto.randomUUID(), 'agent', { schedule: '0 9 * * *', input: userInput('x') }),
      ),
    ).toBe(404);
  });

  it('deleting a thread deletes its crons and their schedulers', async () => {
    const t = await client.threads.create();
    const cron = await client.crons.createForThread(t.thread_id, 'agent', {
      schedule: '0 0 1 1 *',
      input: userInput('new year'),
    });
    await client.threads.delete(t.thread_id);
    expect(await client.crons.search({ threadId: t.thread_id })).toEqual([]);
    expect((await schedulerIds()).some((id) => id?.includes(cron.cron_id))).toBe(false);
  });

  it('one worker reconciles crons under a lease; a scheduler lost from Redis comes back on the next pass', async () => {
    const cron = await client.crons.create('agent', { schedule: '0 7 * * *', input: userInput('lost and found') });
    const mine = async () => (await schedulerIds()).some((id) => id?.includes(cron.cron_id));
    expect(await mine()).toBe(true);
    await queue.removeJobScheduler((await schedulerIds()).find((id) => id?.includes(cron.cron_id))!);
    expect(await mine()).toBe(false);
    // The reconciler holds its lease; taking the lease away makes the holder step down and pass again on re-acquiring.
    const lease = makeKeys(app.config.KEY_PREFIX).api.cronsLease;
    expect(await redis.del(lease)).toBe(1);
    await waitFor(() => mine(), 'the reconciler to re-add the lost scheduler', 20_000);
    await client.crons.delete(cron.cron_id);
  }, 30_000);
});
