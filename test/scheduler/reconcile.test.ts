/**
 * Redis mirrors the database and heals itself: after every key of the gateway is gone (FLUSHALL, scoped to this
 * test's prefix because the Redis is shared), the lease holder rebuilds exactly one job scheduler per enabled
 * check-in; changed or removed rows are applied; two workers never make two schedulers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileSchedules, setCheckin } from '../../src/scheduler/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { cleanRedisPrefix } from '../helpers/services.js';
import { until } from '../helpers/wait.js';
import { checkinSchedulers, dm, dmKey, startSchedulerApp, type SchedulerTestApp } from './helpers.js';

let t: SchedulerTestApp;
let second: TestApp | undefined;
const ids: string[] = [];
beforeAll(async () => {
  t = await startSchedulerApp();
  for (const [i, user] of ['ann', 'bob', 'cat', 'dan'].entries()) {
    await dm(t.app, user, 'hi');
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey(user),
      time: `0${i + 6}:00`,
      timezone: 'Europe/Berlin',
      enabled: user !== 'dan',
    });
    if (user !== 'dan') ids.push(`checkin:${c.id}`);
  }
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

const sorted = async () => (await checkinSchedulers(t.ctx)).sort();

describe('reconciliation', () => {
  it('mirrors each enabled check-in to one job scheduler with its next job', async () => {
    expect(await sorted()).toEqual([...ids].sort());
    const delayed = await t.ctx.queue.queue.getDelayed();
    expect(delayed.map((j) => j.repeatJobKey).sort()).toEqual([...ids].sort());
  });

  it('restores them after a flush, without duplicates, and further passes change nothing', async () => {
    await cleanRedisPrefix(t.app.config.KEY_PREFIX); // every key: queues, schedulers, the lease itself
    expect(await sorted()).toEqual([]);
    // The holder notices its lease is gone, takes it again, and a fresh lease means a full pass.
    expect(await until(sorted, (s) => s.length === ids.length, 10_000)).toEqual([...ids].sort());
    const again = await reconcileSchedules(t.ctx);
    expect(again).toMatchObject({ checkins: 3, upserted: 0, removed: 0, complete: true });
    expect(await sorted()).toEqual([...ids].sort());
    expect((await t.ctx.queue.queue.getDelayed()).length).toBe(ids.length); // one next job each, not two
  });

  it('applies a setting changed behind its back, removes what has no enabled row, and never duplicates', async () => {
    const [first, secondId] = ids.map((k) => k.slice('checkin:'.length));
    await t.sql`update checkins set pattern = '15 7 * * *' where id = ${first!}`;
    await t.sql`update checkins set enabled = false where id = ${secondId!}`;
    await t.ctx.queue.upsertCheckin('cstray', { pattern: '0 9 * * *', tz: 'UTC' }); // no row at all
    const report = await reconcileSchedules(t.ctx);
    expect(report).toMatchObject({ upserted: 1, removed: 2 });
    const all = await t.ctx.queue.queue.getJobSchedulers(0, -1, true);
    expect(all.find((s) => s.key === `checkin:${first}`)).toMatchObject({ pattern: '15 7 * * *', tz: 'Europe/Berlin' });
    expect(await sorted()).toEqual([ids[0], ids[2]].sort());
  });

  it('with two workers on the same Redis and database, one reconciles and there is still one scheduler each', async () => {
    second = await startTestApp({
      db: t.app.db,
      env: { KEY_PREFIX: t.app.config.KEY_PREFIX, SCHEDULER_LEASE_TTL_MS: '3000' },
    });
    await cleanRedisPrefix(t.app.config.KEY_PREFIX);
    const restored = await until(sorted, (s) => s.length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 1_500)); // give a second holder every chance to add more
    expect(await sorted()).toEqual(restored);
    expect(restored).toEqual([ids[0], ids[2]].sort());
  });
});
