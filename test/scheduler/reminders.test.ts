/**
 * Reminders set in chat through the offline model's deterministic phrasing, delivered once by a delayed job; and
 * admins' scheduled messages, to one conversation or fanned out (paced) to every opted-in user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listScheduledMessages,
  reconcileSchedules,
  removeScheduledMessage,
  scheduleMessage,
  setCheckin,
} from '../../src/scheduler/index.js';
import { reminderJobId } from '../../src/scheduler/ids.js';
import { setReminder } from '../../src/scheduler/reminders.js';
import type { InboundEvent } from '../../src/core/types.js';
import { turnContext } from '../../src/worker/turn.js';
import { sleep, until } from '../helpers/wait.js';
import { dm, dmKey, posted, startSchedulerApp, type SchedulerTestApp } from './helpers.js';

let t: SchedulerTestApp;
beforeAll(async () => {
  t = await startSchedulerApp({ env: { SCHEDULER_FANOUT_PER_SECOND: '5' } });
});
afterAll(async () => t?.close());

const reminderRows = (user: string) =>
  t.sql<{ id: string; text: string; status: string; due_at: Date; timezone: string }[]>`
    select id, text, status, due_at, timezone from reminders where user_key = ${`local:default:${user}`} order by created_at`;

describe('reminders', () => {
  it('"remind me in 2 seconds to call Sam" is set through chat and delivered exactly once', async () => {
    const res = await dm(t.app, 'ann', 'remind me in 2 seconds to call Sam');
    expect(res.body.replies[0].text).toMatch(/^Reminder set for \[[0-9a-f]{6}\] .* \(UTC\): call Sam$/);
    const got = await until(
      () => posted(t.app, 'dm-ann'),
      (r) => r.some((m) => m.text.includes('call Sam') && m.text.startsWith('⏰')),
      8_000,
    );
    expect(got.filter((m) => m.text.startsWith('⏰')).map((m) => m.text)).toEqual(['⏰ Reminder: call Sam']);
    await sleep(1_500);
    expect((await posted(t.app, 'dm-ann')).filter((m) => m.text.startsWith('⏰'))).toHaveLength(1);
    expect((await reminderRows('ann')).map((r) => r.status)).toEqual(['delivered']);
  });

  it('a turn re-run after a crash sets its reminder once, even with more messages collected and other wording', async () => {
    await dm(t.app, 'cid', 'hi');
    const ref = { platform: 'local' as const, tenant: 'default', channel: 'dm-cid', kind: 'dm' as const, user: 'cid' };
    const event = (id: string, text: string): InboundEvent =>
      ({
        id,
        platform: 'local',
        tenant: 'default',
        conversation: ref,
        sender: { id: 'cid', isBot: false },
        text,
        attachments: [],
        mentionsBot: true,
        sentAt: new Date().toISOString(),
        receivedAt: new Date().toISOString(),
        kind: 'message',
      }) as InboundEvent;
    const first = turnContext('turn-a', dmKey('cid'), [
      event('local:cid-1', 'remind me in 1 hour to water the plants'),
    ]);
    await setReminder(t.ctx, first, 'water the plants', 'in 1 hour');
    // The worker died before committing; the retry's batch has a second message, and the model words it differently.
    const retry = turnContext('turn-b', dmKey('cid'), [
      event('local:cid-1', 'remind me in 1 hour to water the plants'),
      event('local:cid-2', 'thanks'),
    ]);
    await setReminder(t.ctx, retry, 'Water the plants!', 'in 1 hour');
    expect((await reminderRows('cid')).map((r) => r.text)).toEqual(['water the plants']);
  });

  it('a reminder whose job ran out of attempts (a long database outage) is re-added by the reconciler and delivered once', async () => {
    const set = await dm(t.app, 'eve', 'remind me in 1 hour to stretch');
    expect(set.body.replies[0].text).toMatch(/^Reminder set/);
    const [r] = await reminderRows('eve');
    const jobId = reminderJobId(r!.id);
    // What Redis holds after the last failed attempt: the job hash finished, in the failed set; the row says fired.
    const q = t.ctx.queue.queue;
    await t.sql`update reminders set status = 'fired', due_at = now() - interval '1 minute' where id = ${r!.id}`;
    const redis = t.deps.redis;
    await redis
      .multi()
      .zrem(q.toKey('delayed'), jobId)
      .zadd(q.toKey('failed'), Date.now(), jobId)
      .hset(q.toKey(jobId), 'finishedOn', String(Date.now()), 'failedReason', 'database unavailable')
      .exec();
    expect((await t.ctx.queue.jobStates([jobId])).get(jobId)).toBe('failed');

    expect((await reconcileSchedules(t.ctx)).jobsAdded).toBeGreaterThanOrEqual(1);
    const got = await until(
      () => posted(t.app, 'dm-eve'),
      (m) => m.some((x) => x.text === '⏰ Reminder: stretch'),
      8_000,
    );
    expect(got.filter((m) => m.text.startsWith('⏰'))).toHaveLength(1);
    await sleep(500);
    expect((await reminderRows('eve'))[0]!.status).toBe('delivered');
    expect((await reconcileSchedules(t.ctx)).jobsAdded).toBe(0); // delivered: nothing more to do
  });

  it('"tomorrow at 9" is read in the user\'s timezone; list and cancel are scoped to the user', async () => {
    await dm(t.app, 'bob', 'hi');
    await setCheckin(t.ctx, { conversationKey: dmKey('bob'), enabled: false, timezone: 'Asia/Tokyo' }); // bob's timezone
    const set = await dm(t.app, 'bob', 'remind me tomorrow at 9 to call Sam');
    expect(set.body.replies[0].text).toMatch(/ 09:00 \(Asia\/Tokyo\): call Sam$/);
    const [r] = await reminderRows('bob');
    expect(r!.due_at.toISOString()).toMatch(/T00:00:00\.000Z$/); // 09:00 in Tokyo
    expect((await t.ctx.queue.jobStates([reminderJobId(r!.id)])).get(reminderJobId(r!.id))).toBe('live');

    const list = await dm(t.app, 'bob', 'list my reminders');
    expect(list.body.replies[0].text).toContain(`[${r!.id.slice(1, 7)}]`);
    expect((await dm(t.app, 'ann', 'list my reminders')).body.replies[0].text).toBe('You have no pending reminders.');
    expect((await dm(t.app, 'ann', `cancel reminder ${r!.id.slice(1, 7)}`)).body.replies[0].text).toMatch(
      /^No pending reminder/,
    );

    const cancel = await dm(t.app, 'bob', `cancel reminder ${r!.id.slice(1, 7)}`);
    expect(cancel.body.replies[0].text).toMatch(/^Cancelled \[/);
    expect((await reminderRows('bob'))[0]!.status).toBe('cancelled');
    expect((await t.ctx.queue.jobStates([reminderJobId(r!.id)])).get(reminderJobId(r!.id))).toBe('missing');
  });
});

describe('scheduled messages', () => {
  it('a one-off message to one conversation arrives once, as written, without the model', async () => {
    await dm(t.app, 'cat', 'hi');
    const m = await scheduleMessage(t.ctx, {
      text: 'Maintenance tonight at 22:00.',
      to: { conversationKey: dmKey('cat') },
      at: new Date(Date.now() + 800),
      createdBy: 'admin1',
    });
    expect(m).toMatchObject({ state: 'scheduled', target: 'conversation' });
    await until(
      () => posted(t.app, 'dm-cat'),
      (r) => r.length > 1,
      8_000,
    );
    await sleep(800);
    expect((await posted(t.app, 'dm-cat')).map((x) => x.text)).toEqual(['Echo: hi', 'Maintenance tonight at 22:00.']);
    const turns =
      await t.sql`select outcome, input_tokens from turns where conversation_key = ${dmKey('cat')} order by seq`;
    expect(turns.at(-1)).toMatchObject({ outcome: 'reminder', input_tokens: 0 });
    expect((await listScheduledMessages(t.ctx)).find((x) => x.id === m.id)?.state).toBe('sent');
  });

  it('to all opted-in users: one job per recipient, paced per platform, nobody else', async () => {
    for (const user of ['u1', 'u2', 'u3', 'u4']) {
      await dm(t.app, user, 'hi');
      await setCheckin(t.ctx, { conversationKey: dmKey(user), enabled: false, announcements: user !== 'u4' });
    }
    const at = new Date(Date.now() + 300);
    const m = await scheduleMessage(t.ctx, { text: 'New feature: reminders!', to: 'optins', at });
    const arrived: number[] = [];
    for (const user of ['u1', 'u2', 'u3']) {
      const got = await until(
        () => posted(t.app, `dm-${user}`),
        (r) => r.length > 1,
        8_000,
      );
      expect(got.map((x) => x.text)).toEqual(['Echo: hi', 'New feature: reminders!']);
      arrived.push(Number(got[1]!.id.split('-')[0]));
    }
    // 5 per second per platform: the three local recipients get send slots 200 ms apart, from when the fan-out runs
    // (at `at` or later), so the last cannot arrive before two intervals after `at`; unpaced, all three arrive right
    // after it. A lower bound on the last only: a busy machine stamps arrivals late (the spread between the first and
    // the last, checked here before, shrank below one interval when the first was stamped 231 ms late in a run of the whole suite).
    expect(Math.max(...arrived) - at.getTime()).toBeGreaterThanOrEqual(2 * 200 - 20);
    await sleep(500);
    expect((await posted(t.app, 'dm-u4')).map((x) => x.text)).toEqual(['Echo: hi']);
    expect(await removeScheduledMessage(t.ctx, m.id)).toBe(true);
  });

  it('a recurring message is a job scheduler; removing it removes the scheduler', async () => {
    const m = await scheduleMessage(t.ctx, {
      text: 'Weekly digest',
      to: 'optins',
      pattern: '0 9 * * 1',
      timezone: 'Europe/Berlin',
    });
    expect(m.nextAt!.getTime()).toBeGreaterThan(Date.now());
    const keys = async () => (await t.ctx.queue.queue.getJobSchedulers(0, -1)).map((s) => s.key);
    expect(await keys()).toContain(`msg:${m.id}`);
    expect(await removeScheduledMessage(t.ctx, m.id)).toBe(true);
    expect(await keys()).not.toContain(`msg:${m.id}`);
  });
});
