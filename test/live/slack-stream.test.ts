/**
 * Slack live answers on the real pipeline (real @slack/web-api against the loopback fake): the answer streams into
 * the thread of the message it answers (chat.startStream / appendStream, the SDK's ChatStreamer), and the outbox
 * turns that stream into the committed reply (chat.stopStream + chat.update) instead of posting a second message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorRedis } from '../helpers/monitor.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import {
  BOT,
  HUMAN,
  TEAM,
  appMention,
  dmMessage,
  envelope,
  fixtureText,
  nextSlackTs,
  postSigned,
} from '../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { createRedis } from '../../src/queue/redis.js';
import { keys } from '../../src/queue/keys.js';
import { recordPosting } from '../../src/live/preview-record.js';
import { REDIS_URL } from '../helpers/services.js';
import { SLACK_STREAM_INTERVAL_MS } from '../../adapters/slack/limits.js';

const SECRET = 'stream-signing-secret-0123';
let fake: FakeSlack;
let app: TestApp;

const env = (extra: Record<string, string> = {}) => ({
  SLACK_BOT_TOKEN: 'xoxb-stream-token',
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: fake.apiUrl,
  SLACK_BOT_USER_ID: BOT,
  RATE_LIMIT_PER_MINUTE: '0',
  ...extra,
});

beforeAll(async () => {
  fake = await new FakeSlack({ botUserId: BOT }).start();
  app = await startTestApp({ env: env() });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
let chan = 0;
const newDm = () => `D0STREAM${String(++chan).padStart(3, '0')}`;
const send = (to: TestApp, event: Record<string, unknown>) =>
  postSigned(`${to.url}/slack/events`, SECRET, envelope(event)).then((r) => expect(r.status).toBe(200));
/** What a worker writes just before it starts a stream (src/live/preview-record.ts). */
async function markPosting(channel: string, ts: string) {
  const redis = createRedis(REDIS_URL);
  try {
    const k = keys(app.config.KEY_PREFIX).previews(`slack:${TEAM}:dm:${HUMAN}`);
    await recordPosting(redis, k, `slack:${TEAM}:${channel}:${ts}`);
  } finally {
    redis.disconnect();
  }
}
/** Outlasts the stream's pace and the outbox's: nothing may follow what was counted. */
const settle = () => sleep(SLACK_STREAM_INTERVAL_MS * 1.5);

describe('slack live answers', () => {
  it('a DM answer streams into the thread of the message, in several updates, and ends as one message', async () => {
    const channel = newDm();
    const ts = nextSlackTs();
    const text = `[[drip:100]] ${words(60)}`;
    await send(app, dmMessage({ channel, user: HUMAN, ts, text }));
    const final = `Echo: ${text}`;
    await waitFor(() => fake.messages.in(channel)[0]?.text === final, 'the committed reply in the streamed message');
    await settle();
    const shown = fake.messages.in(channel);
    expect(shown.map((m) => m.text)).toEqual([final]);
    expect(shown[0]!.thread_ts).toBe(ts);
    expect(shown[0]!.streamed).toBe(true);
    expect(shown[0]!.streaming).toBe(false); // stopped, not left open
    expect(fake.posted(channel)).toHaveLength(0);
    // A turn of several seconds, but the answer showed as it was written: no "working on it" reaction (two calls saved, and
    // reactions.add is one of Slack's rate-limited methods). test/adapters/slack/pipeline-delivery.test.ts has
    // the reaction on a slow turn that shows nothing until it is done.
    expect(fake.callsOf('reactions.add', channel)).toEqual([]);
    // The stream grew while the model wrote: started, appended at least once, then the committed text.
    const appends = fake.callsOf('chat.appendStream', channel).filter((c) => c.ok);
    expect(appends.length).toBeGreaterThanOrEqual(1);
    expect(shown[0]!.versions.length).toBeGreaterThanOrEqual(3);
    expect(shown[0]!.versions[0]!.length).toBeLessThan(final.length);
    // Paced: stream updates about the interval apart (measured where the fake received them, so request latency
    // on a loaded machine is allowed for; unpaced, they would come every 100 ms with the model's words).
    const at = [fake.callsOf('chat.startStream', channel)[0]!.at, ...appends.map((c) => c.at)];
    for (let i = 1; i < at.length; i++)
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(SLACK_STREAM_INTERVAL_MS * 0.7);
  });

  it('a stream Slack is slow to start still counts as shown: no "working on it" reaction meanwhile', async () => {
    // Under load the platform (or this worker's own event loop) can take longer to answer chat.startStream than
    // the typing delay (1.5 s): the answer is already on its way, and a reaction would be two more calls.
    const channel = newDm();
    fake.delayNext('chat.startStream', 2_500);
    const text = `[[drip:100]] ${words(30)}`;
    await send(app, dmMessage({ channel, user: HUMAN, ts: nextSlackTs(), text }));
    await waitFor(() => fake.messages.in(channel)[0]?.text === `Echo: ${text}`, 'the committed reply', 15_000);
    await settle();
    expect(fake.callsOf('chat.startStream', channel)).toHaveLength(1);
    expect(fake.callsOf('reactions.add', channel)).toEqual([]);
  });

  it('a streamed turn nobody watches publishes its live text a few times, not once per model delta', async () => {
    const channel = newDm();
    const published = new Map<string, { type: string; text?: string; seq: number }[]>();
    const monitor = await monitorRedis(REDIS_URL, (args, source) => {
      if (source === 'lua' || args[0]?.toLowerCase() !== 'publish' || !args[1]?.includes(':live:')) return;
      published.set(args[1], [...(published.get(args[1]) ?? []), JSON.parse(args[2]!)]);
    });
    // 90 words in about 32 deltas, 20 ms apart: one publish each would be 33 with the end.
    const text = `[[drip:20]] ${words(90)}`;
    const final = `Echo: ${text}`;
    const events = () =>
      [...published.values()].find((es) => es.some((e) => e.text?.includes('w89')) && es.at(-1)?.type === 'end');
    try {
      await send(app, dmMessage({ channel, user: HUMAN, ts: nextSlackTs(), text }));
      await waitFor(() => fake.messages.in(channel)[0]?.text === final, 'the committed reply');
      await waitFor(() => events(), 'the end of its live text');
    } finally {
      monitor.close();
    }
    const mine = events()!;
    expect(mine.length).toBeLessThanOrEqual(8);
    // Nobody was subscribed when the turn started, so even its first text waited (about a dozen 3-word deltas).
    expect(mine[0]!.text!.split(/\s+/).filter(Boolean).length).toBeGreaterThanOrEqual(9);
    // Still the whole text, in order, for a watcher that was there from the start.
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i));
    expect(mine.map((e) => e.text ?? '').join('')).toBe(final);
  });

  it('a channel mention streams in its thread, for the person who asked', async () => {
    const channel = 'C0STREAM01';
    const ts = nextSlackTs();
    const text = `<@${BOT}> [[drip:60]] ${words(30)}`;
    const sentAt = Date.now();
    await send(app, appMention({ channel, user: HUMAN, ts, text }));
    await waitFor(() => fake.messages.in(channel, ts)[0]?.streaming === false, 'the stream ended');
    await settle();
    const start = fake.callsOf('chat.startStream', channel)[0]!;
    // Webhook in to the first visible text (a warm gateway), with a model whose first words come after 60 ms.
    console.log(JSON.stringify({ slackFirstUpdateMs: start.at - sentAt, modelFirstTokenMs: 60 }));
    expect(start.body).toMatchObject({ thread_ts: ts, recipient_team_id: TEAM, recipient_user_id: HUMAN });
    const shown = fake.messages.in(channel);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.text).toMatch(/^Echo: .*\[\[drip:60\]\] w0 .* w29$/);
  });

  it('a reply longer than one message continues in the same thread', async () => {
    const channel = newDm();
    const ts = nextSlackTs();
    await send(app, dmMessage({ channel, user: HUMAN, ts, text: '[[long:6000]] [[drip:1]]' }));
    await waitFor(() => fake.messages.in(channel).length >= 2, 'two parts');
    await settle();
    const shown = fake.messages.in(channel);
    expect(shown).toHaveLength(2);
    expect(shown.every((m) => m.thread_ts === ts)).toBe(true);
    expect(shown[0]!.streamed).toBe(true);
    expect(shown.map((m) => m.text).join('')).toContain('Paragraph 0');
  });

  it('a worker killed mid-stream: the retried turn takes the orphan over, one final answer', async () => {
    const channel = newDm();
    const ts = nextSlackTs();
    // What a killed worker leaves: a stream still open, recorded under the turn's first event.
    const res = await fetch(`${fake.apiUrl}chat.startStream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-stream-token' },
      body: JSON.stringify({ channel, thread_ts: ts, markdown_text: 'Echo: half an ans' }),
    });
    const orphan = ((await res.json()) as { ts: string }).ts;
    const redis = createRedis(REDIS_URL);
    try {
      const k = keys(app.config.KEY_PREFIX).previews(`slack:${TEAM}:dm:${HUMAN}`);
      await redis.hset(k, `slack:${TEAM}:${channel}:${ts}`, orphan);
    } finally {
      redis.disconnect();
    }
    const text = `[[drip:50]] ${words(20)}`;
    await send(app, dmMessage({ channel, user: HUMAN, ts, text }));
    const final = `Echo: ${text}`;
    await waitFor(() => fake.messages.get(orphan)?.text === final, 'the committed reply in the orphan');
    await settle();
    expect(fake.messages.in(channel).map((m) => m.text)).toEqual([final]);
    expect(fake.messages.get(orphan)!.streaming).toBe(false);
    expect(fake.callsOf('chat.startStream', channel).filter((c) => c.ok)).toHaveLength(1); // only the orphan's
  });

  it('a worker killed after Slack started its stream but before recording it: the retry finds that stream', async () => {
    const channel = newDm();
    const ts = nextSlackTs();
    const api = (method: string, body: Record<string, unknown>) =>
      fetch(`${fake.apiUrl}${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-stream-token' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ ts: string }>);
    // What the killed attempt left: its "posting" mark in Redis, and the stream Slack started, whose ts it never saw.
    await markPosting(channel, ts);
    // A message of the bot's that something settled (a posted part): never mistaken for the orphan.
    const settledPart = (
      await api('chat.postMessage', {
        channel,
        thread_ts: ts,
        text: 'an earlier part',
        metadata: { event_type: 'gateway_reply_part', event_payload: { part: 'earlier:0' } },
      })
    ).ts;
    const orphan = (await api('chat.startStream', { channel, thread_ts: ts, markdown_text: 'Echo: half an ans' })).ts;

    const text = `[[drip:50]] ${words(20)}`;
    await send(app, dmMessage({ channel, user: HUMAN, ts, text }));
    const final = `Echo: ${text}`;
    await waitFor(() => fake.messages.get(orphan)?.text === final, 'the committed reply in the unrecorded stream');
    await settle();
    expect(fake.messages.in(channel).map((m) => m.text)).toEqual(['an earlier part', final]);
    expect(fake.messages.get(orphan)!.streaming).toBe(false);
    expect(fake.messages.get(settledPart)!.versions).toEqual(['an earlier part']);
    expect(fake.callsOf('chat.startStream', channel).filter((c) => c.ok)).toHaveLength(1); // only the orphan's
  });

  it('a worker killed before its stream reached Slack: the retry streams once, nothing else taken over', async () => {
    const channel = newDm();
    const ts = nextSlackTs();
    await markPosting(channel, ts);
    const text = `[[drip:50]] ${words(20)}`;
    await send(app, dmMessage({ channel, user: HUMAN, ts, text }));
    const final = `Echo: ${text}`;
    await waitFor(() => fake.messages.in(channel).some((m) => m.text === final), 'the reply');
    await settle();
    expect(fake.messages.in(channel).map((m) => m.text)).toEqual([final]);
    expect(fake.messages.in(channel)[0]!.streamed).toBe(true);
  });

  it('/agent stop ends a slow streamed turn within a second: the stream becomes the partial answer, marked', async () => {
    const channel = newDm();
    const user = 'U0STOPPER1'; // a DM conversation of its own (DMs are keyed by the person)
    // About 60 deltas 300 ms apart: some 18 s unless stopped.
    await send(app, dmMessage({ channel, user, ts: nextSlackTs(), text: `[[drip:300]] ${words(180)}` }));
    await waitFor(() => fake.callsOf('chat.startStream', channel).some((c) => c.ok), 'the answer streaming');
    const form = new URLSearchParams(fixtureText('slash_command.txt'));
    for (const [k, v] of Object.entries({ team_id: TEAM, channel_id: channel, user_id: user, command: '/agent' }))
      form.set(k, v);
    form.set('text', 'stop');
    form.set('response_url', fake.responseUrl(`stop-${channel}`));
    form.set('trigger_id', `${Date.now()}.stop-${channel}`);
    const asked = Date.now();
    const ack = await postSigned(`${app.url}/slack/commands`, SECRET, form.toString(), {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(ack.status).toBe(200);
    const stopped = await waitFor(
      () => fake.messages.in(channel).find((m) => !m.streaming && /\(stopped\)/.test(m.text)),
      'the stopped answer',
      10_000,
    );
    const took = Date.now() - asked;
    console.log(JSON.stringify({ slackStopMs: took }));
    expect(took).toBeLessThan(1_000);
    expect(stopped.text).toMatch(/^Echo: \[\[drip:300\]\] w0 .*_\(stopped\)_$/s);
    expect(stopped.text.length).toBeLessThan(400); // cut short, not the whole answer
    const answer = await waitFor(() => fake.responses.find((r) => r.id === `stop-${channel}`), 'the command answer');
    expect(String(answer.body.text)).toMatch(/Stopping/);
    await settle();
    expect(fake.messages.in(channel)).toHaveLength(1); // the stream became the answer: nothing posted besides
  });

  it('off by configuration: the reply is posted once, nothing streamed', async () => {
    const off = await startTestApp({ env: env({ LIVE_PREVIEWS_OFF: 'slack' }) });
    try {
      const channel = newDm();
      await send(off, dmMessage({ channel, user: HUMAN, ts: nextSlackTs(), text: `[[drip:50]] ${words(20)}` }));
      await waitFor(() => fake.posted(channel).length === 1, 'the reply');
      await settle();
      expect(fake.messages.in(channel)).toHaveLength(1);
      expect(fake.callsOf('chat.startStream', channel)).toHaveLength(0);
      expect(fake.callsOf('chat.update', channel)).toHaveLength(0);
    } finally {
      await off.close();
    }
  });
});
