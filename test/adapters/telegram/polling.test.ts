/**
 * Long polling against the fake Bot API, with the lease in the test Redis: order, at-least-once delivery (the
 * offset moves only after submit resolved), 409 back-off, and hand-over between two pollers of one token.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramAdapter, type TelegramAdapter } from '../../../adapters/telegram/index.js';
import { pollingLeaseKey } from '../../../adapters/telegram/polling.js';
import { type FakeBotApi, startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import { message } from '../../fakes/telegram/updates.js';
import { BOT, RecordingSink, silent, sleep, TOKEN, waitFor } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:tg-polling:${randomUUID()}`;
let redis: Redis;
let fake: FakeBotApi;
const running: TelegramAdapter[] = [];

function poller(opts: { pollTimeoutSeconds?: number } = {}): { adapter: TelegramAdapter; sink: RecordingSink } {
  const adapter = createTelegramAdapter({
    token: TOKEN,
    apiRoot: fake.url,
    mode: 'polling',
    redis,
    keyPrefix: prefix,
    leaseTtlMs: 900,
    pollTimeoutSeconds: opts.pollTimeoutSeconds ?? 1,
    backoff: { initialMs: 20, maxMs: 150 },
    log: silent,
  });
  running.push(adapter);
  return { adapter, sink: new RecordingSink() };
}

const updateOf = (text: string) => ({ message: message(text) });
const idOf = (updateId: number) => `telegram:${BOT.id}:${updateId}`;
const getUpdatesOffsets = () => fake.callsOf('getUpdates').map((c) => c.params.offset as number | undefined);

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
});
beforeEach(async () => {
  fake = await startFakeBotApi(TOKEN, BOT);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
  await fake.close();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('telegram polling', () => {
  it('delivers pushed updates to the sink in order and confirms them', async () => {
    const { adapter, sink } = poller();
    await adapter.start(sink);
    await waitFor(() => adapter.health().state === 'up', 5000, 'poller up');
    const ids = ['one', 'two', 'three'].map((t) => fake.pushUpdate(updateOf(t)));
    await waitFor(() => sink.events.length === 3, 5000, 'three events');
    expect(sink.events.map((e) => e.id)).toEqual(ids.map(idOf));
    expect(sink.events.map((e) => e.text)).toEqual(['one', 'two', 'three']);
    await waitFor(() => fake.pendingUpdates.length === 0, 5000, 'updates confirmed by offset');
    // The webhook, if any, is removed first: a webhook would make getUpdates answer 409 forever.
    expect(fake.callsOf('deleteWebhook')).toHaveLength(1);
  });

  it('advances the offset only after submit resolved; a failed submit is retried, not skipped', async () => {
    const { adapter, sink } = poller();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = fake.pushUpdate(updateOf('first'));
    const second = fake.pushUpdate(updateOf('second'));
    sink.submitHook = async (event, attempt) => {
      if (event.id !== idOf(first)) return;
      if (attempt === 1) throw new Error('redis down'); // fails once
      if (attempt === 2) await held; // then hangs until released
    };
    await adapter.start(sink);
    await waitFor(
      () => sink.submissions.filter((e) => e.id === idOf(first)).length === 2,
      5000,
      'retry of the first update',
    );
    await sleep(300);
    // While the first update is not durably submitted: nothing after it was submitted, and Telegram still has it.
    expect(sink.submissions.map((e) => e.id)).toEqual([idOf(first), idOf(first)]);
    expect(getUpdatesOffsets().every((o) => o === undefined || o <= first)).toBe(true);
    expect(fake.pendingUpdates).toContain(first);
    release();
    await waitFor(() => sink.events.length === 2, 5000, 'both events');
    expect(sink.events.map((e) => e.id)).toEqual([idOf(first), idOf(second)]);
    await waitFor(() => getUpdatesOffsets().includes(second + 1), 5000, 'offset past the second update');
    expect(fake.pendingUpdates).toEqual([]);
  });

  it('start() survives getMe failures: it returns, retries with back-off, and polls once the bot is known', async () => {
    fake.failNext('getMe', { error_code: 502, description: 'Bad Gateway' });
    fake.failNext('getMe', { error_code: 502, description: 'Bad Gateway' });
    const { adapter, sink } = poller();
    await adapter.start(sink);
    expect(adapter.health()).toMatchObject({ state: 'connecting', detail: expect.stringContaining('getMe') });
    expect(fake.callsOf('getUpdates')).toHaveLength(0);
    const id = fake.pushUpdate(updateOf('eventually'));
    await waitFor(() => sink.events.length === 1, 5000, 'event after getMe recovered');
    expect(sink.events[0]!.id).toBe(idOf(id));
    expect(fake.callsOf('getMe')).toHaveLength(3);
  });

  it('backs off on 409 Conflict and recovers', async () => {
    for (let i = 0; i < 3; i++) {
      fake.failNext('getUpdates', {
        error_code: 409,
        description:
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      });
    }
    const { adapter, sink } = poller();
    await adapter.start(sink);
    await waitFor(() => adapter.health().state === 'down', 5000, 'down on conflict');
    expect(adapter.health().detail).toMatch(/conflict/);
    const id = fake.pushUpdate(updateOf('after conflict'));
    await waitFor(() => sink.events.length === 1, 5000, 'event after recovery');
    expect(sink.events[0]!.id).toBe(idOf(id));
    expect(adapter.health().state).toBe('up');
    expect(fake.callsOf('getUpdates').length).toBeLessThan(30); // backed off, not a tight loop
  });

  it('one poller per token across replicas; when it stops the other takes over without a 409 loop', async () => {
    const a = poller();
    const b = poller();
    await a.adapter.start(a.sink);
    await b.adapter.start(b.sink);
    await waitFor(() => [a, b].some((p) => p.adapter.health().state === 'up'), 5000, 'one poller up');
    const [holder, standby] = a.adapter.health().state === 'up' ? [a, b] : [b, a];
    expect(standby.adapter.health().state).toBe('standby');

    // The lease key is derived from a hash of the token; the token itself appears in no key.
    const key = pollingLeaseKey(prefix, TOKEN);
    expect(key).toBe(`${prefix}:lease:telegram:${createHash('sha256').update(TOKEN).digest('hex').slice(0, 16)}`);
    expect(await redis.exists(key)).toBe(1);
    expect((await redis.keys(`${prefix}:*`)).some((k) => k.includes(TOKEN.split(':')[1]!))).toBe(false);

    const u1 = fake.pushUpdate(updateOf('to the holder'));
    await waitFor(() => holder.sink.events.length === 1, 5000, 'holder got u1');
    await sleep(200);
    expect(standby.sink.submissions).toHaveLength(0);

    await holder.adapter.stop();
    await waitFor(() => standby.adapter.health().state === 'up', 5000, 'standby takes over');
    const u2 = fake.pushUpdate(updateOf('to the new holder'));
    await waitFor(() => standby.sink.events.some((e) => e.id === idOf(u2)), 5000, 'new holder got u2');
    expect(holder.sink.events.map((e) => e.id)).toEqual([idOf(u1)]);
    expect(fake.conflicts).toBe(0);
    expect(fake.maxConcurrentPolls).toBe(1);
  });

  it('on lease loss the in-flight getUpdates is aborted at once', async () => {
    const { adapter, sink } = poller({ pollTimeoutSeconds: 20 });
    await adapter.start(sink);
    await waitFor(() => adapter.health().state === 'up' && fake.openPolls === 1, 5000, 'long poll open');
    // Another process takes the key (as after a partition): renewal is refused and polling must stop.
    const key = pollingLeaseKey(prefix, TOKEN);
    await redis.set(key, 'someone-else', 'PX', 60_000);
    const t0 = Date.now();
    await waitFor(() => fake.openPolls === 0, 3000, 'poll aborted');
    expect(Date.now() - t0).toBeLessThan(2000); // far sooner than the 20 s long poll
    expect(adapter.health().state).toBe('standby');
    const calls = fake.callsOf('getUpdates').length;
    fake.pushUpdate(updateOf('nobody polls'));
    await sleep(500);
    expect(fake.callsOf('getUpdates').length).toBe(calls);
    expect(sink.submissions).toHaveLength(0);
    await redis.del(key);
  });
});
