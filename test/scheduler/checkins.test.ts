/**
 * Check-ins end to end on real Redis and Postgres: a BullMQ job scheduler fires, a synthetic event runs through the
 * normal pipeline, and the user gets exactly one DM on the local channel — or nothing, when there is nothing to say.
 * Active hours, lateness after downtime and the token budget are driven through the real fire handler with a
 * chosen "now" (the only way to be 3 hours late or in another day's DST inside a test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireCheckin } from '../../src/scheduler/fire-checkin.js';
import { checkinId } from '../../src/scheduler/ids.js';
import { setCheckin } from '../../src/scheduler/index.js';
import { until, sleep } from '../helpers/wait.js';
import {
  checkinSchedulers,
  cronAt,
  dm,
  dmKey,
  posted,
  secondFromNow,
  startSchedulerApp,
  type SchedulerTestApp,
} from './helpers.js';

let t: SchedulerTestApp;
beforeAll(async () => {
  t = await startSchedulerApp();
});
afterAll(async () => t?.close());

const turnsFor = (eventIdPrefix: string) =>
  t.sql<{ outcome: string; event_ids: string[]; input_tokens: number }[]>`
    select outcome, event_ids, input_tokens from turns where event_ids::text like ${`%${eventIdPrefix}%`}`;

describe('check-ins', () => {
  it('fire on time and send exactly one DM', async () => {
    await dm(t.app, 'ann', 'hi');
    const slot = secondFromNow(2_000);
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('ann'),
      pattern: cronAt(slot),
      timezone: 'UTC',
      prompt: 'your plan for today',
    });
    expect(c.nextAt?.getTime()).toBe(slot);
    expect(await checkinSchedulers(t.ctx)).toContain(`checkin:${c.id}`);

    const got = await until(
      () => posted(t.app, 'dm-ann'),
      (r) => r.some((m) => m.text.startsWith('Checking in')),
      8_000,
      20,
    );
    const arrivedAt = Date.now();
    expect(got.filter((m) => m.text.startsWith('Checking in')).map((m) => m.text)).toEqual([
      'Checking in: your plan for today',
    ]);
    expect(arrivedAt - slot).toBeLessThan(1_500); // on time: the slot, plus one turn and one send
    await sleep(1_500);
    expect((await posted(t.app, 'dm-ann')).filter((m) => m.text.startsWith('Checking in'))).toHaveLength(1);
  });

  it('send nothing when there is nothing to say (no topic: the offline model stays silent)', async () => {
    await dm(t.app, 'bob', 'hi');
    const slot = secondFromNow(1_500);
    const c = await setCheckin(t.ctx, { conversationKey: dmKey('bob'), pattern: cronAt(slot), timezone: 'UTC' });
    const turns = await until(
      () => turnsFor(`checkin:${c.id}:`),
      (r) => r.length > 0,
      8_000,
    );
    expect(turns.map((r) => r.outcome)).toEqual(['silent']);
    expect(turns[0]!.event_ids).toEqual([`checkin:${c.id}:${slot}`]);
    await sleep(500);
    expect((await posted(t.app, 'dm-bob')).map((m) => m.text)).toEqual(['Echo: hi']);
  });

  it('say nothing when the model is down: no apology for a check-in nobody asked for', async () => {
    await dm(t.app, 'dee', 'hi');
    const slot = secondFromNow(1_500);
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('dee'),
      pattern: cronAt(slot),
      timezone: 'UTC',
      prompt: 'status [[fail]]',
    });
    const turns = await until(
      () => turnsFor(`checkin:${c.id}:`),
      (r) => r.length > 0,
      8_000,
    );
    expect(turns.map((r) => r.outcome)).toEqual(['model_failed']);
    await sleep(500);
    expect((await posted(t.app, 'dm-dee')).map((m) => m.text)).toEqual(['Echo: hi']);
    // A person's own message during the outage still gets the apology.
    expect((await dm(t.app, 'dee', 'are you there? [[fail]]')).body.replies[0].text).toMatch(/^Sorry/);
  });

  it('respect active hours in the user timezone, across the autumn DST change', async () => {
    await dm(t.app, 'cat', 'hi');
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('cat'),
      time: '08:30',
      timezone: 'America/New_York',
      activeHours: { from: '08:00', to: '20:00' },
      prompt: 'coffee?',
    });
    // 12:30Z is 07:30 EST on 2024-11-03 (after the change): outside. Nothing is submitted.
    const outside = new Date('2024-11-03T12:30:00Z');
    expect(await fireCheckin(t.ctx, c.id, outside.getTime(), outside)).toBe('outside_hours');
    // The same UTC time the day before is 08:30 EDT: inside.
    const inside = new Date('2024-11-02T12:30:00Z');
    expect(await fireCheckin(t.ctx, c.id, inside.getTime(), inside)).toBe('fired');
    const got = await until(
      () => posted(t.app, 'dm-cat'),
      (r) => r.length > 1,
      8_000,
    );
    expect(got.map((m) => m.text)).toEqual(['Echo: hi', 'Checking in: coffee?']);
  });

  it('after downtime fire one catch-up, never a backlog, and never the same slot twice', async () => {
    await dm(t.app, 'dan', 'hi');
    const hour = (new Date().getUTCHours() + 12) % 24; // the regular slot is far away: a catch-up is allowed
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('dan'),
      pattern: `0 ${hour} * * *`,
      timezone: 'UTC',
      prompt: 'missed you',
    });
    const now = Date.now();
    const missed = [now - 3 * 3_600_000, now - 2 * 3_600_000, now - 3_600_000]; // three slots missed while down
    const outcomes = [];
    for (const slot of missed) outcomes.push(await fireCheckin(t.ctx, c.id, slot, new Date(now)));
    outcomes.push(await fireCheckin(t.ctx, c.id, missed[0]!, new Date(now + 500))); // the first job, run again
    expect(outcomes).toEqual(['fired_catchup', 'caught_up', 'caught_up', 'fired_again']);
    await until(
      () => posted(t.app, 'dm-dan'),
      (r) => r.length > 1,
      8_000,
    );
    await sleep(800);
    expect((await posted(t.app, 'dm-dan')).map((m) => m.text)).toEqual(['Echo: hi', 'Checking in: missed you']);
  });

  it('hold the next check-in while the last one is unanswered, and go on once the user writes again', async () => {
    await dm(t.app, 'fay', 'hi');
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('fay'),
      pattern: '0 0 1 1 *',
      timezone: 'UTC',
      prompt: 'how are you?',
    });
    const day = 86_400_000;
    const base = Date.now();
    expect(await fireCheckin(t.ctx, c.id, base, new Date(base))).toBe('fired');
    await until(
      () => posted(t.app, 'dm-fay'),
      (r) => r.length > 1,
      8_000,
    );
    // The next day's check-in: Fay never answered, so no turn, no tokens.
    expect(await fireCheckin(t.ctx, c.id, base + day, new Date(base + day))).toBe('unanswered');
    await dm(t.app, 'fay', 'sorry, busy week');
    expect(await fireCheckin(t.ctx, c.id, base + 2 * day, new Date(base + 2 * day))).toBe('fired');
    const got = await until(
      () => posted(t.app, 'dm-fay'),
      (r) => r.filter((m) => m.text.startsWith('Checking in')).length > 1,
      8_000,
    );
    expect(got.map((m) => m.text)).toEqual([
      'Echo: hi',
      'Checking in: how are you?',
      'Echo: sorry, busy week',
      'Checking in: how are you?',
    ]);
  });

  it('stop for the day once the token budget is spent', async () => {
    await dm(t.app, 'eve', 'hi');
    const c = await setCheckin(t.ctx, {
      conversationKey: dmKey('eve'),
      pattern: '0 0 1 1 *',
      timezone: 'UTC',
      tokenBudget: 5,
      prompt: 'budget test',
    });
    const now = Date.now();
    expect(await fireCheckin(t.ctx, c.id, now, new Date(now))).toBe('fired');
    const [row] = await until(
      () => t.sql<{ tokens_used: number }[]>`select tokens_used from checkins where id = ${c.id}`,
      (r) => (r[0]?.tokens_used ?? 0) > 0,
      8_000,
    );
    expect(row!.tokens_used).toBeGreaterThan(5);
    expect(await fireCheckin(t.ctx, c.id, now + 1_000, new Date(now + 1_000))).toBe('budget');
    expect(checkinId(dmKey('eve'))).toBe(c.id);
  });
});
