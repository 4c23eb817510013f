/**
 * Outbound through the real @slack/web-api WebClient, pointed at the loopback fake via `apiUrl`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import { threadKey } from '../../../adapters/slack/parse.js';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import { PermanentSendError, RateLimitedError } from '../../../src/core/errors.js';
import { ThreadTracker } from '../../../adapters/kit/thread-tracker.js';
import { threadKey as threadRedisKey } from '../../../src/queue/keys.js';
import type { ConversationRef, RenderedPart } from '../../../src/core/types.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { BOT, TEAM, capturingLogger } from '../../fakes/slack/requests.js';

const TOKEN = 'xoxb-send-test-secret-token';
const prefix = `test:slack-send:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const logs = capturingLogger();
let fake: FakeSlack;
let adapter: ChannelAdapter;

const threadRef: ConversationRef = {
  platform: 'slack',
  tenant: TEAM,
  channel: 'C0CHAN01',
  kind: 'group',
  thread: '1700000100.000100',
};
const dmRef: ConversationRef = {
  platform: 'slack',
  tenant: TEAM,
  channel: 'D024BE91L',
  kind: 'dm',
  user: 'U2147483697',
};
const part = (text: string, index = 0): RenderedPart => ({ text, index, total: 1, idempotencyKey: `turn-1:${index}` });

beforeAll(async () => {
  fake = await new FakeSlack().start();
  adapter = createSlackAdapter({
    botToken: TOKEN,
    signingSecret: 's',
    botUserId: BOT,
    apiUrl: fake.apiUrl,
    redis,
    keyPrefix: prefix,
    log: logs.log,
  });
});

beforeEach(() => {
  fake.calls.length = 0;
});

afterAll(async () => {
  await fake.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('slack send', () => {
  it('posts each part into the thread with the bot token and returns the message ts', async () => {
    const receipt = await adapter.send(threadRef, part('*hello* thread'));
    const [call, ...more] = fake.callsOf('chat.postMessage');
    expect(more).toHaveLength(0);
    expect(call!.auth).toBe(`Bearer ${TOKEN}`);
    expect(call!.body).toMatchObject({ channel: 'C0CHAN01', text: '*hello* thread', thread_ts: '1700000100.000100' });
    expect(receipt.platformMessageId).toMatch(/^1700000000\.\d{6}$/);
  });

  it('posts DMs without a thread', async () => {
    await adapter.send(dmRef, part('hi'));
    const call = fake.callsOf('chat.postMessage')[0]!;
    expect(call.body.channel).toBe('D024BE91L');
    expect(call.body).not.toHaveProperty('thread_ts');
  });

  it('a top-level post in a channel starts a thread the bot takes part in', async () => {
    const ref: ConversationRef = { platform: 'slack', tenant: TEAM, channel: 'C0CHAN02', kind: 'group' };
    const { platformMessageId } = await adapter.send(ref, part('daily check-in'));
    expect(
      await new ThreadTracker(redis, (t) => threadRedisKey(prefix, t)).has(
        threadKey(TEAM, 'C0CHAN02', platformMessageId),
      ),
    ).toBe(true);
  });

  it('a 429 surfaces at once as RateLimitedError with Retry-After in ms, and the next call succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const started = Date.now();
    const err = await adapter.send(threadRef, part('one')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7_000);
    expect(Date.now() - started).toBeLessThan(2_000); // the SDK did not sit out the 7 s itself
    expect(fake.callsOf('chat.postMessage')).toHaveLength(1); // and did not retry behind our back

    await expect(adapter.send(threadRef, part('one'))).resolves.toHaveProperty('platformMessageId');
    expect(fake.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('channel_not_found and friends are PermanentSendError with a fitting reason', async () => {
    const cases: Array<[string, string]> = [
      ['channel_not_found', 'not_found'],
      ['is_archived', 'not_found'],
      ['not_in_channel', 'forbidden'],
      ['account_inactive', 'forbidden'],
      ['invalid_auth', 'forbidden'],
      ['msg_too_long', 'invalid'],
    ];
    for (const [code, reason] of cases) {
      fake.failNext('chat.postMessage', { error: code });
      const err = await adapter.send(threadRef, part('x')).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(PermanentSendError);
      expect((err as PermanentSendError).reason, code).toBe(reason);
    }
  });

  it('other failures are rethrown as they are (transient), after exactly one attempt', async () => {
    fake.failNext('chat.postMessage', { status: 503 });
    const err = await adapter.send(threadRef, part('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect(err).not.toBeInstanceOf(PermanentSendError);
    fake.failNext('chat.postMessage', { error: 'internal_error' });
    await expect(adapter.send(threadRef, part('x'))).rejects.not.toBeInstanceOf(PermanentSendError);
    expect(fake.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('typing: adds a reaction to the user message and removes it when done', async () => {
    const stop = await adapter.startTyping!(threadRef, '1700000100.000200');
    await fake.waitFor(() => fake.callsOf('reactions.add').length > 0);
    expect(fake.callsOf('reactions.add').map((c) => c.body)).toEqual([
      expect.objectContaining({ channel: 'C0CHAN01', timestamp: '1700000100.000200', name: 'hourglass_flowing_sand' }),
    ]);
    expect(fake.callsOf('reactions.remove')).toHaveLength(0);
    await stop();
    await stop(); // idempotent
    expect(fake.callsOf('reactions.remove').map((c) => c.body)).toEqual([
      expect.objectContaining({ channel: 'C0CHAN01', timestamp: '1700000100.000200', name: 'hourglass_flowing_sand' }),
    ]);
  });

  it('typing: a remover called while reactions.add is still in flight removes the reaction once it lands', async () => {
    // The turn can end before Slack has answered reactions.add; the reaction must not stay on the message for good.
    fake.delayNext('reactions.add', 300);
    const stop = await adapter.startTyping!(threadRef, '1700000100.000500');
    await fake.waitFor(() => fake.callsOf('reactions.add').length > 0);
    await stop();
    expect(fake.callsOf('reactions.remove').map((c) => c.body.timestamp)).toEqual(['1700000100.000500']);

    // A Slack that takes far longer does not hold the answer back for long; the reaction still goes afterwards.
    fake.delayNext('reactions.add', 2_500);
    const asked = Date.now();
    const stop2 = await adapter.startTyping!(threadRef, '1700000100.000600');
    expect(Date.now() - asked).toBeLessThan(1_000); // the remover is in hand before Slack has answered
    await fake.waitFor(() => fake.callsOf('reactions.add').length > 1);
    const started = Date.now();
    await stop2();
    expect(Date.now() - started).toBeLessThan(1_500);
    const removed = await fake.waitFor(
      () => fake.callsOf('reactions.remove').length > 1 && fake.callsOf('reactions.remove'),
      5_000,
    );
    expect(removed.map((c) => c.body.timestamp)).toEqual(['1700000100.000500', '1700000100.000600']);
  });

  it('typing is best effort: failures neither throw nor leave a remover that throws', async () => {
    fake.failNext('reactions.add', { error: 'missing_scope' });
    const stop = await adapter.startTyping!(threadRef, '1700000100.000300');
    await expect(stop()).resolves.toBeUndefined();
    expect(fake.callsOf('reactions.remove')).toHaveLength(0);

    const stop2 = await adapter.startTyping!(threadRef, '1700000100.000400');
    fake.failNext('reactions.remove', { status: 500 });
    await expect(stop2()).resolves.toBeUndefined();

    const noTarget = await adapter.startTyping!(threadRef);
    await expect(noTarget()).resolves.toBeUndefined();
  });

  it('findSent: a posted part is found by its key (channel history, thread replies); others and older ones not', async () => {
    const before = new Date();
    const dmPart = { ...part('in the DM', 0), idempotencyKey: `find-${randomUUID()}:0` };
    const threadPart = { ...part('in the thread', 1), idempotencyKey: `find-${randomUUID()}:1` };
    const { platformMessageId: dmTs } = await adapter.send(dmRef, dmPart);
    const { platformMessageId: threadTs } = await adapter.send(threadRef, threadPart);
    expect(await adapter.findSent!(dmRef, dmPart, before)).toEqual({ platformMessageId: dmTs });
    expect(await adapter.findSent!(threadRef, threadPart, before)).toEqual({ platformMessageId: threadTs });
    expect(fake.callsOf('conversations.history')).toHaveLength(1);
    expect(fake.callsOf('conversations.replies')).toHaveLength(1);
    // Not sent: another key, or the same key looked for in the wrong place, or only after it was posted.
    expect(await adapter.findSent!(dmRef, { ...dmPart, idempotencyKey: 'never-sent:0' }, before)).toBeUndefined();
    expect(await adapter.findSent!(dmRef, threadPart, before)).toBeUndefined();
    expect(await adapter.findSent!(dmRef, dmPart, new Date(Date.now() + 120_000))).toBeUndefined();
  });

  it('findSent failures are mapped like a send: a 429 is RateLimitedError (the delivery is retried later, nothing is posted)', async () => {
    fake.failNext('conversations.history', { status: 429, retryAfter: 2 });
    await expect(adapter.findSent!(dmRef, part('x'), new Date())).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('never logs the bot token', () => {
    expect(logs.lines.length).toBeGreaterThan(0); // the log did capture this file's activity
    expect(logs.lines.join('\n')).not.toContain(TOKEN);
  });
});
