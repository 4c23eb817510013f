/**
 * Slack end to end on the REAL pipeline: signed Events API / slash-command requests over HTTP into the gateway,
 * inbox, turn worker (offline model), Postgres session and outbox, outbound stage, and the real @slack/web-api
 * WebClient posting to the loopback fake Slack. The fake echoes every post back as the bot's own `message` event,
 * as Slack does, so every test here also runs with the bot's own messages flowing in.
 *
 * What is asserted is what a Slack user would see: which messages appear, where (channel, thread), how many, in
 * what order and when; plus the database rows where "the same conversation" is the point.
 *
 * Conversations, acknowledgement, who gets answered and commands here; the delivery of replies (splitting, rate
 * limits, failed sends, the typing reaction) in pipeline-delivery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tooLongText } from '../../../src/access/gate.js';
import { settleForDuplicates } from '../../helpers/settle.js';
import {
  BOT,
  HUMAN,
  TEAM,
  appMention,
  channelMessage,
  dmMessage,
  envelope,
  fixtureText,
  nextSlackTs,
  postSigned,
} from '../../fakes/slack/requests.js';
import { startTestApp } from '../../helpers/app.js';
import {
  SECRET,
  SLACK_ACK_DEADLINE_MS,
  TOKEN,
  app,
  echo,
  event,
  fake,
  itemText,
  sleep,
  sql,
  texts,
  until,
  useSlackPipeline,
} from './pipeline-setup.js';

useSlackPipeline();

describe('slack on the real pipeline', () => {
  it('answers a channel mention in its thread; a follow-up there without a mention shares that thread and session', async () => {
    const channel = 'C0THREADS';
    const root = nextSlackTs();
    expect((await event(appMention({ channel, ts: root, text: `<@${BOT}> first question` }))).status).toBe(200);
    const first = await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    expect(first.map((c) => [c.body.thread_ts, c.body.text])).toEqual([[root, echo('first question', HUMAN)]]);

    // Chatter at channel level (no mention, no thread) is not for the bot; the follow-up in the thread is.
    expect((await event(channelMessage({ channel, ts: nextSlackTs(), text: 'lunch anyone?' }))).status).toBe(200);
    expect(
      (await event(channelMessage({ channel, ts: nextSlackTs(), thread_ts: root, text: 'second question' }))).status,
    ).toBe(200);
    // A mention elsewhere in the channel opens a separate thread, with its own session.
    const other = nextSlackTs();
    expect((await event(appMention({ channel, ts: other, text: `<@${BOT}> unrelated` }))).status).toBe(200);

    const all = await until(
      () => fake.posted(channel),
      (p) => p.length >= 3,
    );
    await settleForDuplicates('slack');
    expect(fake.posted(channel, root).map((c) => c.body.text)).toEqual([
      echo('first question', HUMAN),
      echo('second question', HUMAN),
    ]);
    expect(fake.posted(channel, other).map((c) => c.body.text)).toEqual([echo('unrelated', HUMAN)]);
    expect(fake.posted(channel)).toHaveLength(3);
    expect(all.every((c) => c.body.thread_ts)).toBe(true); // nothing landed at channel level

    // One conversation per thread; the follow-up was a second turn of the first thread's session.
    const rows = await sql<{ key: string; session_id: string }[]>`
      select key, session_id from conversations where key like ${`slack:${TEAM}:${channel}:%`} order by created_at`;
    expect(rows.map((r) => r.key)).toEqual([`slack:${TEAM}:${channel}:${root}`, `slack:${TEAM}:${channel}:${other}`]);
    const items = await sql<{ item: { role?: string; content?: unknown } }[]>`
      select item from session_items where session_id = ${rows[0]!.session_id} order by position`;
    expect(items.map((r) => [r.item.role, itemText(r.item)])).toEqual([
      ['user', `[${HUMAN}] first question`],
      ['assistant', echo('first question', HUMAN)],
      ['user', `[${HUMAN}] second question`],
      ['assistant', echo('second question', HUMAN)],
    ]);
  });

  it("Slack's double delivery (app_mention + message) and its retries give exactly one reply", async () => {
    const channel = 'C0DOUBLE';
    const ts = nextSlackTs();
    const text = `<@${BOT}> only once please`;
    const mention = appMention({ channel, ts, text });
    const message = channelMessage({ channel, ts, text });
    const acks = await Promise.all([
      event(mention, { eventId: 'EvDoubleMention' }),
      event(message, { eventId: 'EvDoubleMessage' }),
    ]);
    acks.push(await event(mention, { eventId: 'EvDoubleMention', retryNum: 1 }));
    expect(acks.map((a) => a.status)).toEqual([200, 200, 200]);

    await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    // Slack retries again after we answered (it never saw our ack, say): still answered once.
    expect((await event(message, { eventId: 'EvDoubleMessage', retryNum: 2 })).status).toBe(200);
    await settleForDuplicates('slack');
    expect(fake.posted(channel).map((c) => [c.body.thread_ts, c.body.text])).toEqual([
      [ts, echo('only once please', HUMAN)],
    ]);
    const [turns] = await sql<{ n: number }[]>`
      select count(*)::int as n from turns where conversation_key = ${`slack:${TEAM}:${channel}:${ts}`}`;
    expect(turns!.n).toBe(1);
  });

  it('acknowledges within 3 s while the agent is slow, and the reply still arrives', async () => {
    const channel = 'D0SLOW';
    const sentAt = Date.now();
    const ack = await event(
      dmMessage({ channel, user: 'U0SLOW', ts: nextSlackTs(), text: 'take your time [[slow:4000]]' }),
    );
    expect(ack.status).toBe(200);
    expect(ack.ms).toBeLessThan(SLACK_ACK_DEADLINE_MS);
    expect(fake.posted(channel)).toHaveLength(0); // the ack did not wait for the answer

    const reply = await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );
    expect(texts(reply)).toEqual([echo('take your time [[slow:4000]]')]);
    expect(reply[0]!.at - sentAt).toBeGreaterThanOrEqual(3_900);
  });

  it("gets no reply for other bots' messages or the bot's own", async () => {
    const channel = 'C0BOTS';
    const root = nextSlackTs();
    await event(appMention({ channel, ts: root, text: `<@${BOT}> watch this thread` }));
    await until(
      () => fake.posted(channel),
      (p) => p.length >= 1,
    );

    const inThread = { channel, thread_ts: root };
    const quiet = [
      channelMessage({
        ...inThread,
        ts: nextSlackTs(),
        user: 'U0OTHERBOT',
        bot_id: 'B0OTHER',
        text: 'beep from another bot',
      }),
      channelMessage({
        ...inThread,
        ts: nextSlackTs(),
        user: undefined,
        subtype: 'bot_message',
        bot_id: 'B0LEGACY',
        text: 'legacy integration post',
      }),
      channelMessage({ ...inThread, ts: nextSlackTs(), user: BOT, bot_id: 'BBOT0001', text: 'my own words' }),
      appMention({
        ...inThread,
        ts: nextSlackTs(),
        user: 'U0OTHERBOT',
        bot_id: 'B0OTHER',
        text: `<@${BOT}> bots mentioning bots`,
      }),
    ];
    for (const e of quiet) expect((await event(e)).status).toBe(200);
    await event(dmMessage({ channel: 'D0BOTS', user: BOT, bot_id: 'BBOT0001', ts: nextSlackTs(), text: 'my own DM' }));

    // A person speaks again in the thread: the answer echoes exactly what they said since the bot's last answer, so
    // any bot message that slipped into the conversation would show up in it (or as a reply of its own).
    await event(channelMessage({ ...inThread, ts: nextSlackTs(), text: 'a human again' }));
    await until(
      () => fake.posted(channel),
      (p) => p.length >= 2,
    );
    await settleForDuplicates('slack');
    expect(texts(fake.posted(channel))).toEqual([echo('watch this thread', HUMAN), echo('a human again', HUMAN)]);
    expect(fake.posted('D0BOTS')).toEqual([]);
    // Every reply came back as the bot's own message event (as in Slack), was acknowledged, and was not answered.
    const echoes = fake.echoes.filter((e) => e.channel === channel);
    expect(echoes.map((e) => e.status)).toEqual([200, 200]);
  });

  it('/agent help: empty 200 within 3 s, then the help answer POSTed to response_url, ephemeral', async () => {
    const form = new URLSearchParams(fixtureText('slash_command.txt'));
    const post = async (text: string) => {
      const responseId = `help-${text || 'empty'}-${Date.now()}`;
      form.set('command', '/agent');
      form.set('text', text);
      form.set('response_url', fake.responseUrl(responseId));
      form.set('trigger_id', `${Date.now()}.${responseId}`);
      const ack = await postSigned(`${app.url}/slack/commands`, SECRET, form.toString(), {
        contentType: 'application/x-www-form-urlencoded',
      });
      return { ack, responseId };
    };
    const answers = (id: string) => fake.responses.filter((r) => r.id === id);

    for (const text of ['help', '']) {
      const { ack, responseId } = await post(text);
      expect(ack.status).toBe(200);
      expect(ack.body).toBe('');
      expect(ack.ms).toBeLessThan(SLACK_ACK_DEADLINE_MS);
      await until(
        () => answers(responseId),
        (r) => r.length >= 1,
        10_000,
      );
      await sleep(300);
      const got = answers(responseId);
      expect(got, `/agent ${text}`).toHaveLength(1);
      expect(got[0]!.body.response_type).toBe('ephemeral');
      expect(String(got[0]!.body.text)).toContain('`/help`');
      expect(String(got[0]!.body.text)).toContain('List the commands you can use');
    }
    // Ephemeral means through the response_url only: nothing was posted into the channel for everyone.
    expect(fake.callsOf('chat.postMessage', form.get('channel_id')!)).toEqual([]);
  });

  it('with SLACK_ALLOW_BOTS=true answers another bot, but never itself (no reply loop)', async () => {
    const lax = await startTestApp({
      env: {
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: fake.apiUrl,
        SLACK_BOT_USER_ID: BOT,
        SLACK_ALLOW_BOTS: 'true',
      },
    });
    const echoTo = fake.echoTo;
    fake.echoTo = { url: `${lax.url}/slack/events`, signingSecret: SECRET };
    try {
      const channel = 'C0LAX';
      const root = nextSlackTs();
      const fromBot = appMention({
        channel,
        ts: root,
        user: 'U0OTHERBOT',
        bot_id: 'B0OTHER',
        text: `<@${BOT}> status report`,
      });
      expect((await postSigned(`${lax.url}/slack/events`, SECRET, envelope(fromBot))).status).toBe(200);
      await until(
        () => fake.posted(channel),
        (p) => p.length >= 1,
      );
      // Our reply came back as our own message event; had it been taken, it would be answered, and so on forever.
      await until(
        () => fake.echoes.filter((e) => e.channel === channel),
        (e) => e.length >= 1,
        5_000,
      );
      await sleep(1_500);
      expect(texts(fake.posted(channel))).toEqual([echo('status report', 'U0OTHERBOT')]);
      expect(fake.echoes.filter((e) => e.channel === channel).map((e) => e.status)).toEqual([200]);
    } finally {
      fake.echoTo = echoTo;
      await lax.close();
    }
  });

  it('acknowledges a message over the input limit and tells the user, once, without storing or running its text', async () => {
    const channel = 'D0HUGE';
    const huge = 'x'.repeat(app.config.MAX_INPUT_CHARS + 1);
    const ack = await event(dmMessage({ channel, user: 'U0HUGE', ts: nextSlackTs(), text: huge }));
    expect(ack.status).toBe(200);
    const posted = await fake.waitFor(() => fake.posted(channel).length > 0 && fake.posted(channel));
    expect(texts(posted)).toEqual([tooLongText(huge.length, app.config.MAX_INPUT_CHARS)]);
    const [t] = await sql<
      { outcome: string; input_tokens: number }[]
    >`select outcome, input_tokens from turns where conversation_key = ${`slack:${TEAM}:dm:U0HUGE`}`;
    expect(t).toEqual({ outcome: 'too_long', input_tokens: 0 });
    const [stored] = await sql<
      { n: number }[]
    >`select count(*)::int as n from session_items where item::text like '%xxxxxxxxxx%'`;
    expect(stored!.n).toBe(0);
    await settleForDuplicates('slack');
    expect(fake.posted(channel)).toHaveLength(1);
  });
});
