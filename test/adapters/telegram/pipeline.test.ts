/**
 * Telegram end to end on the REAL pipeline: the app is started from TELEGRAM_* env like production and runs the
 * real grammY client against the loopback fake Bot API, the real ingress sink, worker (offline model), outbox,
 * delivery and command registry. Assertions read what a Telegram user would see: the messages the fake accepted
 * per chat (after its strict MarkdownV2 parse), where they landed (topic, reply), how often the bot called.
 *
 * Webhook mode here (most behaviour); polling mode and the lease between two replicas are in
 * pipeline-polling.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longReply } from '../../../src/agent/offline-model.js';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import type { TestApp } from '../../helpers/app.js';
import { startFakeBotApi, type FakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import {
  BOT,
  groupUpdate,
  mentions,
  newGroupId,
  newUser,
  postUpdate,
  privateUpdate,
  query,
  repliesIn,
  settle,
  sleep,
  startTelegramApp,
  texts,
  TOKEN,
  waitFor,
} from './e2e-helpers.js';

const BOT_USER = { id: BOT.id, is_bot: true, first_name: 'Gateway', username: BOT.username };
const AT = `@${BOT.username}`;
const dmKey = (userId: number) => `telegram:${BOT.id}:dm:${userId}`;

describe('telegram webhook mode through the real pipeline', () => {
  let fake: FakeBotApi;
  let app: TestApp;
  let adapter: ChannelAdapter;

  beforeAll(async () => {
    fake = await startFakeBotApi(TOKEN, BOT);
    ({ app, adapter } = await startTelegramApp(fake, { mode: 'webhook' }));
    await waitFor(() => adapter.health().state === 'up', 'telegram adapter up (getMe answered)');
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const post = (update: unknown) => postUpdate(app.url, update);

  it('answers a private message once, as a reply to it, even when Telegram redelivers the same update_id', async () => {
    const user = newUser();
    const update = privateUpdate(user, 'hello just once');
    // A webhook retry (our 200 got lost) can race the first delivery or come later: same update_id each time.
    expect(await Promise.all([post(update), post(update)])).toEqual([200, 200]);
    expect(await post(update)).toBe(200);
    const [reply] = await repliesIn(fake, user.id);
    expect(reply!.text).toBe('Echo: hello just once');
    expect(reply!.reply_to).toBe(update.message.message_id);
    await settle();
    expect(texts(fake, user.id)).toEqual(['Echo: hello just once']);
  });

  it('in a group, ignores messages not addressed to it and answers a mention (mention removed, sender named)', async () => {
    const chat = { id: newGroupId() };
    const grace = newUser('Grace', 'Hopper');
    const ignored = [
      groupUpdate(chat, grace, 'just chatting among humans'),
      groupUpdate(chat, grace, '/help', { entities: [{ type: 'bot_command', offset: 0, length: 5 }] }),
      groupUpdate(chat, grace, '/help@other_bot', { entities: [{ type: 'bot_command', offset: 0, length: 15 }] }),
      groupUpdate(chat, grace, 'ping @other_bot please', { entities: mentions('ping @other_bot please', 'other_bot') }),
    ];
    // Ignored updates are still acknowledged, or Telegram would keep redelivering them.
    for (const u of ignored) expect(await post(u)).toBe(200);
    const text = `${AT} what is up?`;
    const mention = groupUpdate(chat, grace, text, { entities: mentions(text, BOT.username) });
    expect(await post(mention)).toBe(200);
    // Same conversation, arrival order: had an earlier message been taken, it would be in this (or an earlier) reply.
    const [reply] = await repliesIn(fake, chat.id);
    expect(reply!.text).toBe('Echo: [Grace Hopper] what is up?');
    expect(reply!.reply_to).toBe(mention.message.message_id);
    await settle('group');
    expect(texts(fake, chat.id)).toEqual(['Echo: [Grace Hopper] what is up?']);
  });

  it('in a group, answers a reply to one of its own messages without a mention, but not a reply to a human', async () => {
    const chat = { id: newGroupId() };
    const linus = newUser('Linus', 'T');
    const first = `${AT} first question`;
    const opener = groupUpdate(chat, linus, first, { entities: mentions(first, BOT.username) });
    expect(await post(opener)).toBe(200);
    const [botMsg] = await repliesIn(fake, chat.id);
    const replied = (m: { message_id: number }, from: Record<string, unknown>) => ({
      reply_to_message: {
        message_id: m.message_id,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chat.id, type: 'supergroup' },
        from,
        text: 'earlier',
      },
    });
    // A reply to a human's message, no mention: not for the bot.
    expect(
      await post(
        groupUpdate(
          chat,
          newUser('Other', 'Human'),
          'agreed with Linus',
          replied(opener.message, { id: linus.id, is_bot: false, first_name: 'Linus' }),
        ),
      ),
    ).toBe(200);
    const followUp = groupUpdate(chat, linus, 'and a follow-up without mention', replied(botMsg!, BOT_USER));
    expect(await post(followUp)).toBe(200);
    const got = await repliesIn(fake, chat.id, 2);
    expect(got[1]!.text).toBe('Echo: [Linus T] and a follow-up without mention');
    expect(got[1]!.reply_to).toBe(followUp.message.message_id);
    await settle('group');
    expect(texts(fake, chat.id)).toEqual([
      'Echo: [Linus T] first question',
      'Echo: [Linus T] and a follow-up without mention',
    ]);
  });

  it('/help@botname in a group is answered once by the real command registry, under the command', async () => {
    const chat = { id: newGroupId() };
    const text = `/help@${BOT.username}`;
    const cmd = groupUpdate(chat, newUser('Ken', 'T'), text, {
      entities: [{ type: 'bot_command', offset: 0, length: text.length }],
    });
    expect(await post(cmd)).toBe(200);
    expect(await post(cmd)).toBe(200); // redelivered: the command must not run (or answer) twice
    const [answer] = await repliesIn(fake, chat.id);
    expect(answer!.text).toContain('Commands');
    expect(answer!.text).toContain('/help — List the commands you can use');
    expect(answer!.entities).toContainEqual(
      expect.objectContaining({ type: 'bold', offset: 0, length: 'Commands'.length }),
    );
    expect(answer!.reply_to).toBe(cmd.message.message_id);
    await settle('group');
    expect(fake.sentTo(chat.id)).toHaveLength(1);
  });

  it('a forum topic is answered in its topic and is its own session: another topic does not see its history', async () => {
    const forum = { id: newGroupId(), is_forum: true };
    const ada = newUser('Ada', 'L');
    const inTopic = (topic: number, text: string) =>
      groupUpdate(forum, ada, text, {
        entities: mentions(text, BOT.username),
        message_thread_id: topic,
        is_topic_message: true,
        // In a forum every topic message replies to the topic's root service message.
        reply_to_message: {
          message_id: topic,
          date: 1_700_000_000,
          chat: { id: forum.id, type: 'supergroup', is_forum: true },
          forum_topic_created: { name: `topic ${topic}`, icon_color: 7322096 },
        },
      });
    expect(await post(inTopic(101, `${AT} alpha words for topic one`))).toBe(200);
    const [a] = await repliesIn(fake, forum.id);
    expect(a).toMatchObject({ text: 'Echo: [Ada L] alpha words for topic one', message_thread_id: 101 });
    expect(await post(inTopic(202, `${AT} beta words for topic two`))).toBe(200);
    const [, b] = await repliesIn(fake, forum.id, 2);
    expect(b).toMatchObject({ text: 'Echo: [Ada L] beta words for topic two', message_thread_id: 202 });

    const keys = [101, 202].map((t) => `telegram:${BOT.id}:${forum.id}:${t}`);
    const rows = await query<{ key: string; session_id: string }>(
      app.db.url,
      'select key, session_id from conversations where key like $1 order by key',
      [`telegram:${BOT.id}:${forum.id}%`],
    );
    expect(rows.map((r) => r.key)).toEqual(keys);
    expect(rows[0]!.session_id).not.toBe(rows[1]!.session_id);
    const history = async (sessionId: string) =>
      (
        await query<{ item: string }>(
          app.db.url,
          'select item::text as item from session_items where session_id = $1 order by position',
          [sessionId],
        )
      )
        .map((r) => r.item)
        .join('\n');
    const [one, two] = [await history(rows[0]!.session_id), await history(rows[1]!.session_id)];
    expect(one).toContain('alpha words');
    expect(two).toContain('beta words');
    expect(two).not.toContain('alpha words');
    expect(one).not.toContain('beta words');
  });

  it('a long reply arrives as ordered parts within 4,096 characters, code block intact, paced', async () => {
    const user = newUser();
    const ask = privateUpdate(user, 'tell me everything [[long:10000]]');
    expect(await post(ask)).toBe(200);
    const expected = adapter.render(longReply(10_000)).length;
    expect(expected).toBeGreaterThan(1);
    const parts = await repliesIn(fake, user.id, expected, 20_000);
    await settle();
    expect(fake.sentTo(user.id)).toHaveLength(expected);
    for (const p of parts) {
      expect(p.raw.length).toBeLessThanOrEqual(4096);
      expect(p.text.length).toBeLessThanOrEqual(4096);
      expect(p.parse_mode).toBe('MarkdownV2'); // no part needed the plain-text fallback
    }
    // Only the first part answers the question; the rest follow it.
    expect(parts.map((p) => p.reply_to)).toEqual([ask.message.message_id, ...Array(expected - 1).fill(undefined)]);
    // Code: every line whole, in order, inside `ts` code blocks (a split reopens the block with its language).
    const code = parts.flatMap((p) =>
      p.entities.filter((e) => e.type === 'pre').map((e) => ({ e, s: p.text.slice(e.offset, e.offset + e.length) })),
    );
    expect(code.length).toBeGreaterThan(0);
    for (const { e } of code) expect(e.language).toBe('ts');
    const codeLines = code.flatMap(({ s }) => s.split('\n')).filter((l) => l.trim());
    expect(codeLines).toEqual(Array.from({ length: 40 }, (_, i) => `const value${i} = ${i} * 2; // keep me whole`));
    // Prose: every paragraph once, in order.
    const nums = parts
      .map((p) => p.text)
      .join('\n')
      .match(/Paragraph (\d+):/g)!
      .map((x) => Number(/\d+/.exec(x)![0]));
    expect(nums).toEqual(Array.from({ length: nums.length }, (_, i) => i));
    expect(longReply(10_000)).toContain(`Paragraph ${nums.length - 1}:`);
    expect(longReply(10_000)).not.toContain(`Paragraph ${nums.length}:`);
    // Paced at about one message per second in a private chat (unpaced parts follow each other within ~50 ms;
    // the margin absorbs the latency of a loaded machine).
    const at = fake.callsTo('sendMessage', user.id).map((c) => c.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(600);
  });

  it('a user text full of MarkdownV2 special characters comes back intact after the strict parse', async () => {
    const user = newUser();
    const text = 'specials _*[]()~`>#+-=|{}.! and 1.5 + 2 = 3.5 (really) #tag a-b | c {x} !';
    expect(await post(privateUpdate(user, text))).toBe(200);
    const [reply] = await repliesIn(fake, user.id);
    expect(reply!.text).toBe(`Echo: ${text}`);
    expect(reply!.parse_mode).toBe('MarkdownV2');
    await settle();
    expect(fake.callsTo('sendMessage', user.id)).toHaveLength(1); // accepted first time: no fallback needed
  });

  it('when Telegram answers "can\'t parse entities", the part is resent as plain text and arrives once', async () => {
    const user = newUser();
    fake.failNext(
      'sendMessage',
      {
        error_code: 400,
        description:
          "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
      },
      user.id,
    );
    expect(await post(privateUpdate(user, 'keep my words. all of them!'))).toBe(200);
    const [reply] = await repliesIn(fake, user.id);
    expect(reply!.text).toBe('Echo: keep my words. all of them!');
    expect(reply!.parse_mode).toBeUndefined();
    expect(reply!.raw).toBe('Echo: keep my words. all of them!'); // plain: no escape backslashes shown to the user
    await settle();
    expect(texts(fake, user.id)).toEqual(['Echo: keep my words. all of them!']);
    expect(fake.callsTo('sendMessage', user.id).map((c) => c.params.parse_mode)).toEqual(['MarkdownV2', undefined]);
  });

  it('on 429 the same part is resent after retry_after and delivered once', async () => {
    const user = newUser();
    // retry_after 2 rather than 1: private-chat pacing alone already spaces two sends by 1 s, so only a wait
    // longer than the pacing proves retry_after is honoured (margin for a loaded machine).
    fake.failNext(
      'sendMessage',
      { error_code: 429, description: 'Too Many Requests: retry after 2', parameters: { retry_after: 2 } },
      user.id,
    );
    expect(await post(privateUpdate(user, 'busy day'))).toBe(200);
    const [reply] = await repliesIn(fake, user.id);
    expect(reply!.text).toBe('Echo: busy day');
    const calls = fake.callsTo('sendMessage', user.id);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1_600);
    expect(calls[1]!.params.text).toBe(calls[0]!.params.text);
    await settle();
    expect(texts(fake, user.id)).toEqual(['Echo: busy day']);
  });

  it('403 "bot was blocked by the user": the reply is marked failed after one call, no retries', async () => {
    const user = newUser();
    fake.block(user.id);
    expect(await post(privateUpdate(user, 'you will not reach me'))).toBe(200);
    const [row] = await waitFor(async () => {
      const rows = await query<{ status: string; error: string | null }>(
        app.db.url,
        'select status, error from outbox where conversation_key = $1',
        [dmKey(user.id)],
      );
      return rows.length === 1 && rows[0]!.status !== 'pending' && rows;
    }, 'the outbox row to leave pending');
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.error).toMatch(/^blocked: .*bot was blocked by the user/);
    await sleep(2_000); // a retrying job would call again within this window (BullMQ back-off, pacing 1 s)
    expect(fake.callsTo('sendMessage', user.id)).toHaveLength(1);
    expect(fake.sentTo(user.id)).toEqual([]);
  });

  it('shows "typing" during a slow turn (and not on a quick one)', async () => {
    const quick = newUser();
    expect(await post(privateUpdate(quick, 'quick one'))).toBe(200);
    await repliesIn(fake, quick.id);

    const user = newUser();
    const posted = Date.now();
    expect(await post(privateUpdate(user, 'think hard [[slow:2500]]'))).toBe(200);
    const [reply] = await repliesIn(fake, user.id);
    expect(reply!.text).toBe('Echo: think hard [[slow:2500]]');
    const typing = fake.callsTo('sendChatAction', user.id);
    expect(typing.length).toBeGreaterThanOrEqual(1);
    expect(typing[0]!.params.action).toBe('typing');
    const sentAt = fake.callsTo('sendMessage', user.id)[0]!.at;
    expect(typing[0]!.at).toBeLessThan(sentAt);
    expect(typing[0]!.at - posted).toBeGreaterThanOrEqual(1_000); // the worker waits ~1.5 s before typing
    await settle();
    expect(fake.callsTo('sendChatAction', quick.id)).toEqual([]);
  });
});
