/**
 * Slack replies delivered on the REAL pipeline (signed Events API requests into the gateway, the turn worker with
 * the offline model, the outbox and the real @slack/web-api WebClient against the loopback fake Slack): a long
 * reply split within Slack's limit, a 429 waited out, a failed send marked failed, the typing reaction shown and
 * removed. Asserted as a Slack user would see it: which messages appear, how many, in what order and when.
 */
import { describe, expect, it } from 'vitest';
import { SLACK_MAX_MESSAGE_CHARS } from '../../../adapters/slack/limits.js';
import { longReply } from '../../../src/agent/offline-model.js';
import { settleForDuplicates } from '../../helpers/settle.js';
import { BOT, TEAM, appMention, dmMessage, nextSlackTs } from '../../fakes/slack/requests.js';
import { app, echo, event, fake, sleep, sql, texts, until, useSlackPipeline } from './pipeline-setup.js';

useSlackPipeline();

describe('slack replies delivered on the real pipeline', () => {
  it('delivers a 10,000-character reply as several messages within the limit, in order, fences balanced, nothing lost', async () => {
    const channel = 'D0LONG';
    await event(dmMessage({ channel, user: 'U0LONG', ts: nextSlackTs(), text: 'write a lot [[long:10000]]' }));
    const markdown = longReply(10_000);
    const expected = app.adapters.get('slack')!.render(markdown);
    expect(expected.length).toBeGreaterThan(2);

    const parts = await until(
      () => fake.posted(channel),
      (p) => p.length >= expected.length,
      25_000,
    );
    await settleForDuplicates('slack');
    expect(texts(fake.posted(channel))).toEqual(expected);
    for (const p of texts(parts)) {
      expect(p.length).toBeLessThanOrEqual(SLACK_MAX_MESSAGE_CHARS);
      expect((p.match(/```/g) ?? []).length % 2).toBe(0);
    }
    const joined = texts(parts).join('\n');
    const paragraphs = [...markdown.matchAll(/Paragraph (\d+):/g)].map((m) => Number(m[1]));
    expect(paragraphs.length).toBeGreaterThan(10);
    expect([...joined.matchAll(/Paragraph (\d+):/g)].map((m) => Number(m[1]))).toEqual(paragraphs); // each once, in order
    for (let i = 0; i < 40; i++) expect(joined).toContain(`const value${i} = ${i} * 2; // keep me whole`);
    // Paced at Slack's one message per second per channel, so Slack has no reason to throttle us.
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.at - parts[i - 1]!.at).toBeGreaterThanOrEqual(700);
  });

  it('a 429 with Retry-After on chat.postMessage: the part is delivered once, after the wait', async () => {
    // Like Slack, the fake keeps refusing (429) until Retry-After has passed: a resend that does not wait shows up
    // as a further refused call. Retry-After: 1 as Slack usually says; 3 s is longer than our own pacing and the
    // queue's back-off, so only honouring the header gets it right.
    for (const [channel, retryAfter] of [
      ['D0RATE1', 1],
      ['D0RATE3', 3],
    ] as const) {
      fake.failNext('chat.postMessage', { status: 429, retryAfter, hold: true }, { channel });
      await event(
        dmMessage({ channel, user: `U${channel}`, ts: nextSlackTs(), text: `hello under pressure ${retryAfter}` }),
      );
    }
    for (const [channel, retryAfter] of [
      ['D0RATE1', 1],
      ['D0RATE3', 3],
    ] as const) {
      await until(
        () => fake.posted(channel),
        (p) => p.length >= 1,
      );
      const calls = fake.callsOf('chat.postMessage', channel);
      expect(
        calls.map((c) => [c.ok, c.error]),
        channel,
      ).toEqual([
        [false, '429'],
        [true, undefined],
      ]);
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(retryAfter * 1000 - 50);
      expect(calls[1]!.body.text).toBe(calls[0]!.body.text);
    }
    await settleForDuplicates('slack');
    expect(texts(fake.posted('D0RATE1'))).toEqual([echo('hello under pressure 1')]);
    expect(texts(fake.posted('D0RATE3'))).toEqual([echo('hello under pressure 3')]);
    expect(fake.callsOf('chat.postMessage', 'D0RATE3')).toHaveLength(2);
  });

  it('shows the typing reaction on a slow turn and removes it before the answer; a fast turn shows none', async () => {
    const channel = 'D0TYPING';
    await event(dmMessage({ channel, user: 'U0TYPING', ts: nextSlackTs(), text: 'quick one' }));
    await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    expect(fake.callsOf('reactions.add', channel)).toEqual([]);

    const ts = nextSlackTs();
    const sentAt = Date.now();
    await event(dmMessage({ channel, user: 'U0TYPING', ts, text: 'think hard [[slow:2500]]' }));
    const replies = await until(
      () => fake.posted(channel),
      (p) => p.length >= 2,
    );
    await until(
      () => fake.callsOf('reactions.remove', channel),
      (r) => r.length >= 1,
      5_000,
    );

    const target = { channel, timestamp: ts, name: 'hourglass_flowing_sand' };
    const added = fake.callsOf('reactions.add', channel);
    const removed = fake.callsOf('reactions.remove', channel);
    expect(added.map((c) => c.body)).toEqual([expect.objectContaining(target)]);
    expect(removed.map((c) => c.body)).toEqual([expect.objectContaining(target)]);
    expect(added[0]!.at - sentAt).toBeGreaterThanOrEqual(1_000); // not for turns that answer quickly
    expect(removed[0]!.at).toBeGreaterThan(added[0]!.at);
    expect(removed[0]!.at).toBeLessThanOrEqual(replies[1]!.at); // gone by the time the answer shows
    expect(texts(replies)).toEqual([echo('quick one'), echo('think hard [[slow:2500]]')]);
  });

  it('removes the typing reaction even when Slack answers reactions.add only after the turn is done', async () => {
    const channel = 'D0TYPINGLATE';
    const ts = nextSlackTs();
    fake.delayNext('reactions.add', 1_500); // added at ~1.5 s, acknowledged at ~3 s; the turn ends at ~2 s
    await event(dmMessage({ channel, user: 'U0TYPINGLATE', ts, text: 'think a bit [[slow:2000]]' }));
    await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    const removed = await until(
      () => fake.callsOf('reactions.remove', channel),
      (r) => r.length >= 1,
      5_000,
    );
    expect(fake.callsOf('reactions.add', channel).map((c) => c.body.timestamp)).toEqual([ts]);
    expect(removed.map((c) => c.body.timestamp)).toEqual([ts]);
  });

  it('channel_not_found on send marks the reply failed with one attempt, and other conversations carry on', async () => {
    const channel = 'C0GONE';
    fake.closeChannel(channel);
    const ts = nextSlackTs();
    expect((await event(appMention({ channel, ts, text: `<@${BOT}> are you there?` }))).status).toBe(200);

    const key = `slack:${TEAM}:${channel}:${ts}`;
    const outbox = await until(
      () =>
        sql<
          { status: string; error: string | null }[]
        >`select status, error from outbox where conversation_key = ${key}`,
      (rows) => rows[0]?.status === 'failed',
    );
    expect(outbox).toEqual([{ status: 'failed', error: expect.stringContaining('channel_not_found') }]);
    await sleep(2_000); // longer than the outbound queue's first back-offs: a retry would have happened by now
    expect(fake.callsOf('chat.postMessage', channel).map((c) => c.error)).toEqual(['channel_not_found']);

    await event(dmMessage({ channel: 'D0AFTER', user: 'U0AFTER', ts: nextSlackTs(), text: 'still working?' }));
    expect(
      texts(
        await until(
          () => fake.posted('D0AFTER'),
          (p) => p.length >= 1,
        ),
      ),
    ).toEqual([echo('still working?')]);
  });
});
