/**
 * Telegram polling mode end to end on the REAL pipeline (the app started from TELEGRAM_* env, the real grammY
 * client against the loopback fake Bot API): the getUpdates offset confirmed across a restart, and two gateway
 * replicas sharing Redis and the database, of which only the lease holder polls. Webhook mode is in
 * pipeline.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import type { TestApp } from '../../helpers/app.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../../helpers/services.js';
import { startFakeBotApi, type FakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import {
  BOT,
  newUpdateId,
  newUser,
  occurrences,
  privateUpdate,
  repliesIn,
  settle,
  startTelegramApp,
  texts,
  TOKEN,
  waitFor,
} from './e2e-helpers.js';

describe('telegram polling mode through the real pipeline', () => {
  let fake: FakeBotApi;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeBotApi(TOKEN, BOT);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await fake?.close();
  });

  const start = async () => {
    const t = await startTelegramApp(fake, { mode: 'polling' });
    apps.push(t.app);
    await waitFor(() => t.adapter.health().state === 'up', 'poller up');
    return t;
  };

  it('answers pushed updates in order, exactly once; a restarted app does not replay confirmed updates', async () => {
    const first = await start();
    const user = newUser('Poll', 'User');
    const words = ['first-msg', 'second-msg', 'third-msg'];
    for (const w of words) fake.pushUpdate(privateUpdate(user, w, newUpdateId()));
    await waitFor(() => words.every((w) => occurrences(fake, user.id, w) > 0), 'answers to all three updates');
    await settle();
    const joined = texts(fake, user.id).join('\n');
    const positions = words.map((w) => joined.indexOf(w));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const w of words) expect(occurrences(fake, user.id, w)).toBe(1);
    await waitFor(() => fake.pendingUpdates.length === 0, 'the offset to confirm the updates to Telegram', 5_000);
    const before = fake.sentTo(user.id).length;

    // Stop, then start a new app with its own empty database and Redis prefix: no dedupe can hide a replay,
    // only the offset confirmed to Telegram keeps the three updates from being answered again.
    await first.app.close();
    apps.splice(apps.indexOf(first.app), 1);
    await start();
    fake.pushUpdate(privateUpdate(user, 'fourth-msg', newUpdateId()));
    await waitFor(
      () => occurrences(fake, user.id, 'fourth-msg') > 0,
      'the answer to the update pushed after the restart',
    );
    await settle();
    expect(fake.sentTo(user.id)).toHaveLength(before + 1);
    for (const w of words) expect(occurrences(fake, user.id, w)).toBe(1);
    expect(texts(fake, user.id).at(-1)).toBe('Echo: fourth-msg');
    expect(fake.conflicts).toBe(0);
  });
});

describe('telegram polling lease hand-over between two gateway replicas', () => {
  const LEASE_TTL_MS = 3_000;
  let fake: FakeBotApi;
  let db: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFakeBotApi(TOKEN, BOT);
    db = await createTestDatabase();
  });
  afterAll(async () => {
    // close() of an app given `db` leaves the database alone; it is dropped once, here.
    for (const a of apps) await a.close();
    await fake?.close();
    await db?.drop();
  });

  it('only one replica polls; when it stops the other takes over within the lease TTL and answers once', async () => {
    const env = { KEY_PREFIX: uniqueName('t'), TELEGRAM_LEASE_TTL_MS: String(LEASE_TTL_MS) };
    const gateways: Array<{ app: TestApp; adapter: ChannelAdapter }> = [];
    for (let i = 0; i < 2; i++) {
      const g = await startTelegramApp(fake, { mode: 'polling', role: 'gateway', db, env });
      apps.push(g.app);
      gateways.push(g);
    }
    apps.push((await startTelegramApp(fake, { mode: 'polling', role: 'worker', db, env })).app);

    await waitFor(() => {
      const states = gateways.map((g) => g.adapter.health().state).sort();
      return states[0] === 'standby' && states[1] === 'up';
    }, 'one gateway polling, the other standing by');
    const holder = gateways.find((g) => g.adapter.health().state === 'up')!;
    const standby = gateways.find((g) => g !== holder)!;

    const user = newUser('Lease', 'User');
    fake.pushUpdate(privateUpdate(user, 'before hand-over', newUpdateId()));
    expect((await repliesIn(fake, user.id))[0]!.text).toBe('Echo: before hand-over');

    // Stop the holder's process (not close(): that would also wipe the shared Redis prefix the others use).
    const stoppedAt = Date.now();
    await holder.app.stop();
    await waitFor(() => standby.adapter.health().state === 'up', 'the stand-by to take over', LEASE_TTL_MS);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_TTL_MS);

    fake.pushUpdate(privateUpdate(user, 'after hand-over', newUpdateId()));
    const got = await repliesIn(fake, user.id, 2);
    expect(got[1]!.text).toBe('Echo: after hand-over');
    await settle();
    expect(texts(fake, user.id)).toEqual(['Echo: before hand-over', 'Echo: after hand-over']);
    // Never two getUpdates at once: Telegram would answer 409 Conflict.
    expect(fake.conflicts).toBe(0);
    expect(fake.maxConcurrentPolls).toBe(1);
  });
});
