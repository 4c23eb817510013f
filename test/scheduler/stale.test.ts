/**
 * A user who blocked the bot: the platform refuses the check-in's DM permanently, the check-in turns itself off with
 * the reason recorded, and nothing keeps retrying. The platform is a tiny test adapter (a fake Telegram whose send
 * always answers "bot was blocked by the user") — the one thing here that cannot run for real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../src/core/adapter.js';
import { PermanentSendError } from '../../src/core/errors.js';
import type { ConversationRef } from '../../src/core/types.js';
import { fireCheckin } from '../../src/scheduler/fire-checkin.js';
import { getCheckin, setCheckin } from '../../src/scheduler/index.js';
import { sleep, until } from '../helpers/wait.js';
import { checkinSchedulers, startSchedulerApp, type SchedulerTestApp } from './helpers.js';

const sends: string[] = [];
const blockedTelegram: ChannelAdapter = {
  platform: 'telegram',
  capabilities: { ephemeral: false },
  limits: { maxMessageChars: 4096, minSendIntervalMs: 0 },
  render: (markdown) => [markdown],
  async send(ref) {
    sends.push(ref.channel);
    throw new PermanentSendError('blocked', 'Forbidden: bot was blocked by the user');
  },
  health: () => ({ state: 'up' }),
};

const ref: ConversationRef = { platform: 'telegram', tenant: 'bot1', channel: '555', kind: 'dm', user: '555' };

let t: SchedulerTestApp;
beforeAll(async () => {
  // Through a module, the same composition path the api module's adapter takes.
  t = await startSchedulerApp({
    extraModules: [
      { name: 'blocked-telegram', create: () => ({ name: 'blocked-telegram', adapters: [blockedTelegram] }) },
    ],
  });
});
afterAll(async () => t?.close());

const row = async (id: string) =>
  (
    await t.sql<{ enabled: boolean; disabled_reason: string | null; announcements: boolean }[]>`
    select enabled, disabled_reason, announcements from checkins where id = ${id}`
  )[0]!;

describe('a blocked bot', () => {
  it('disables the check-in with the reason recorded, after one refused send and no retry storm', async () => {
    const c = await setCheckin(t.ctx, { ref, everyMs: 1_000, prompt: 'still there?', announcements: true });
    const off = await until(
      () => row(c.id),
      (r) => !r.enabled,
      10_000,
    );
    expect(off.disabled_reason).toMatch(/^blocked: Forbidden: bot was blocked by the user/);
    expect(off.announcements).toBe(false); // no announcements into a closed chat either
    expect(await checkinSchedulers(t.ctx)).not.toContain(`checkin:${c.id}`);
    await sleep(2_500); // the interval was 1 s: a live check-in would have tried twice more by now
    expect(sends).toEqual(['555']);
    const failed =
      await t.sql`select error from outbox where conversation_key = ${c.conversationKey} and status = 'failed'`;
    expect(failed).toHaveLength(1);
    expect((await getCheckin(t.ctx, ref))?.disabledReason).toMatch(/^blocked:/);
  });

  it('is also caught when the check-in fires, if the live notification was missed', async () => {
    const c = (await getCheckin(t.ctx, ref))!;
    // As if the failure notification had been lost: the row is on again, the failed reply still the latest.
    await t.sql`update checkins set enabled = true, disabled_reason = null where id = ${c.id}`;
    expect(await fireCheckin(t.ctx, c.id, Date.now())).toBe('unreachable');
    expect((await row(c.id)).disabled_reason).toMatch(/^blocked:/);
    expect(sends).toHaveLength(1);
  });

  it('turning it on again is one more attempt, not a storm', async () => {
    const c = await setCheckin(t.ctx, { ref, enabled: true, everyMs: 60_000 });
    expect(c.disabledReason).toBeNull();
    expect(await fireCheckin(t.ctx, c.id, Date.now())).toBe('fired');
    await until(
      () => row(c.id),
      (r) => !r.enabled,
      10_000,
    );
    await sleep(500);
    expect(sends).toHaveLength(2);
  });
});
