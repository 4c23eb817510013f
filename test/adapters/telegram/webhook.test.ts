/**
 * Webhook ingress end to end: a real Fastify app with the project's raw-body adapter scope, the real grammY
 * client talking to the loopback fake Bot API, and a sink that records what would be enqueued.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramAdapter, type TelegramAdapter } from '../../../adapters/telegram/index.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { conversationKey } from '../../../src/core/types.js';
import { type FakeBotApi, startFakeBotApi } from '../../fakes/telegram/fake-bot-api.js';
import {
  commandEntity,
  FORUM_CHAT,
  GROUP_CHAT,
  mentionEntity,
  message,
  OTHER_BOT,
  USER,
} from '../../fakes/telegram/updates.js';
import { BOT, fixture, RecordingSink, SECRET, silent, TOKEN, waitFor } from './helpers.js';

let fake: FakeBotApi;

interface Harness {
  app: FastifyInstance;
  adapter: TelegramAdapter;
  sink: RecordingSink;
  post(update: unknown, secret?: string | null): Promise<LightMyRequestResponse>;
}

async function harness(opts: { edits?: 'ignore' | 'new_turn'; start?: boolean } = {}): Promise<Harness> {
  const adapter = createTelegramAdapter({
    token: TOKEN,
    apiRoot: fake.url,
    mode: 'webhook',
    webhookSecret: SECRET,
    edits: opts.edits ?? 'ignore',
    log: silent,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  const sink = new RecordingSink();
  const app = Fastify();
  await registerAdapterRoutes(app, adapter, sink);
  await app.ready();
  if (opts.start !== false) await adapter.start(sink);
  const post = (update: unknown, secret: string | null = SECRET): Promise<LightMyRequestResponse> =>
    app.inject({
      method: 'POST',
      url: '/telegram/webhook',
      headers: {
        'content-type': 'application/json',
        ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      },
      payload: typeof update === 'string' ? update : JSON.stringify(update),
    });
  return { app, adapter, sink, post };
}

let h: Harness;
let updateId = 1;
const nextId = () => updateId++;

beforeAll(async () => {
  fake = await startFakeBotApi(TOKEN, BOT);
  h = await harness();
});
afterAll(async () => {
  await h.adapter.stop();
  await h.app.close();
  await fake.close();
});
afterEach(() => {
  h.sink.submitHook = undefined;
});

describe('telegram webhook: authenticity and shape', () => {
  it('refuses a missing or wrong secret with 401 and submits nothing, even for a malformed body', async () => {
    const before = h.sink.submissions.length;
    const update = { update_id: nextId(), message: message('hi') };
    expect((await h.post(update, null)).statusCode).toBe(401);
    expect((await h.post(update, 'wrong-secret')).statusCode).toBe(401);
    expect((await h.post(update, SECRET + 'x')).statusCode).toBe(401);
    expect((await h.post('{not json', 'wrong')).statusCode).toBe(401);
    expect(h.sink.submissions.length).toBe(before);
    expect((await h.post(update)).statusCode).toBe(200);
    expect(h.sink.submissions.length).toBe(before + 1);
  });

  it('answers 400 to malformed JSON and to updates of the wrong shape', async () => {
    const before = h.sink.submissions.length;
    expect((await h.post('{not json')).statusCode).toBe(400);
    expect((await h.post({ update_id: 'x', message: {} })).statusCode).toBe(400);
    expect((await h.post({ update_id: nextId(), message: { message_id: 1, chat: { id: 1 } } })).statusCode).toBe(400);
    expect(h.sink.submissions.length).toBe(before);
  });

  it('is up once getMe succeeded', () => {
    expect(h.adapter.health()).toEqual({ state: 'up' });
    expect(h.adapter.identity()).toEqual(BOT);
  });
});

describe('telegram webhook: routing', () => {
  it('private message -> dm event keyed by the user; a redelivered update_id gives the same event id', async () => {
    const update = { update_id: nextId(), message: message('hello there') };
    expect((await h.post(update)).statusCode).toBe(200);
    expect((await h.post(update)).statusCode).toBe(200);
    const subs = h.sink.submissions.filter((e) => e.id === `telegram:${BOT.id}:${update.update_id}`);
    expect(subs).toHaveLength(2);
    expect(h.sink.events.filter((e) => e.id === subs[0]!.id)).toHaveLength(1);
    const e = subs[0]!;
    expect(e).toMatchObject({
      platform: 'telegram',
      tenant: String(BOT.id),
      text: 'hello there',
      kind: 'message',
      mentionsBot: true,
      sender: { id: String(USER.id), name: 'Test User', isBot: false },
      conversation: { kind: 'dm', channel: String(USER.id), user: String(USER.id) },
      platformMessageId: String((update.message as { message_id: number }).message_id),
      sentAt: new Date(1_700_000_000 * 1000).toISOString(),
    });
    expect(conversationKey(e.conversation)).toBe(`telegram:${BOT.id}:dm:${USER.id}`);
  });

  it('group: answers a mention (mention removed from the text), ignores the rest', async () => {
    const text = `@${BOT.username} what time is it?`;
    const mentioned = {
      update_id: nextId(),
      message: message(text, { chat: GROUP_CHAT, entities: [mentionEntity(text, BOT.username)] }),
    };
    const plain = { update_id: nextId(), message: message('just chatting', { chat: GROUP_CHAT }) };
    const otherText = '@other_bot do it';
    const other = {
      update_id: nextId(),
      message: message(otherText, { chat: GROUP_CHAT, entities: [mentionEntity(otherText, 'other_bot')] }),
    };
    for (const u of [mentioned, plain, other]) expect((await h.post(u)).statusCode).toBe(200);
    const got = h.sink.submissions.filter((e) =>
      [mentioned, plain, other].some((u) => e.id.endsWith(`:${u.update_id}`)),
    );
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      text: 'what time is it?',
      conversation: { kind: 'group', channel: String(GROUP_CHAT.id) },
    });
    expect(got[0]!.conversation.thread).toBeUndefined();
    expect(conversationKey(got[0]!.conversation)).toBe(`telegram:${BOT.id}:${GROUP_CHAT.id}`);
  });

  it('group: a text_mention of the bot and a reply to the bot count as addressed', async () => {
    const tm = {
      update_id: nextId(),
      message: message('Gateway, help', {
        chat: GROUP_CHAT,
        entities: [
          { type: 'text_mention', offset: 0, length: 7, user: { id: BOT.id, is_bot: true, first_name: 'Gateway' } },
        ],
      }),
    };
    const reply = {
      update_id: nextId(),
      message: message('and then?', {
        chat: GROUP_CHAT,
        extra: {
          reply_to_message: {
            message_id: 77,
            date: 1,
            chat: GROUP_CHAT,
            from: { id: BOT.id, is_bot: true, first_name: 'Gateway' },
          },
        },
      }),
    };
    const replyToUser = {
      update_id: nextId(),
      message: message('agreed', {
        chat: GROUP_CHAT,
        extra: { reply_to_message: { message_id: 78, date: 1, chat: GROUP_CHAT, from: USER } },
      }),
    };
    for (const u of [tm, reply, replyToUser]) expect((await h.post(u)).statusCode).toBe(200);
    const ids = h.sink.submissions.map((e) => e.id);
    expect(ids).toContain(`telegram:${BOT.id}:${tm.update_id}`);
    expect(ids).toContain(`telegram:${BOT.id}:${reply.update_id}`);
    expect(ids).not.toContain(`telegram:${BOT.id}:${replyToUser.update_id}`);
    expect(h.sink.submissions.find((e) => e.id.endsWith(`:${reply.update_id}`))).toMatchObject({
      replyTo: '77',
      text: 'and then?',
    });
    expect(h.sink.submissions.find((e) => e.id.endsWith(`:${tm.update_id}`))!.text).toBe('help');
  });

  it('forum topics are their own conversations; reply chains in ordinary groups are not', async () => {
    const inTopic = (topic: number) => {
      const text = `@${BOT.username} status`;
      return {
        update_id: nextId(),
        message: message(text, {
          chat: FORUM_CHAT,
          entities: [mentionEntity(text, BOT.username)],
          // Every topic message "replies" to the topic's root, a service message: not a reply to anyone.
          extra: {
            message_thread_id: topic,
            is_topic_message: true,
            reply_to_message: {
              message_id: topic,
              date: 1,
              chat: FORUM_CHAT,
              from: { id: BOT.id, is_bot: true, first_name: 'G' },
              forum_topic_created: { name: 't' },
            },
          },
        }),
      };
    };
    const a = inTopic(42);
    const b = inTopic(43);
    const text = `@${BOT.username} hi`;
    const replyChain = {
      update_id: nextId(),
      message: message(text, {
        chat: GROUP_CHAT,
        entities: [mentionEntity(text, BOT.username)],
        extra: { message_thread_id: 555 },
      }),
    };
    for (const u of [a, b, replyChain]) expect((await h.post(u)).statusCode).toBe(200);
    const ev = (u: { update_id: number }) => h.sink.submissions.find((e) => e.id.endsWith(`:${u.update_id}`))!;
    expect(ev(a).conversation).toMatchObject({ kind: 'group', channel: String(FORUM_CHAT.id), thread: '42' });
    expect(ev(a).replyTo).toBeUndefined();
    expect(conversationKey(ev(a).conversation)).toBe(`telegram:${BOT.id}:${FORUM_CHAT.id}:42`);
    expect(conversationKey(ev(b).conversation)).toBe(`telegram:${BOT.id}:${FORUM_CHAT.id}:43`);
    expect(ev(replyChain).conversation.thread).toBeUndefined();
  });

  it('a topic root from the bot does not make every topic message "addressed"', async () => {
    const u = {
      update_id: nextId(),
      message: message('talking among ourselves', {
        chat: FORUM_CHAT,
        extra: {
          message_thread_id: 42,
          is_topic_message: true,
          reply_to_message: {
            message_id: 42,
            date: 1,
            chat: FORUM_CHAT,
            from: { id: BOT.id, is_bot: true, first_name: 'G' },
            forum_topic_created: { name: 't' },
          },
        },
      }),
    };
    expect((await h.post(u)).statusCode).toBe(200);
    expect(h.sink.submissions.some((e) => e.id.endsWith(`:${u.update_id}`))).toBe(false);
  });

  it('messages from other bots are ignored', async () => {
    const u = { update_id: nextId(), message: message('beep', { from: OTHER_BOT }) };
    expect((await h.post(u)).statusCode).toBe(200);
    expect(h.sink.submissions.some((e) => e.id.endsWith(`:${u.update_id}`))).toBe(false);
  });

  it('photo with caption -> text = caption, attachment metadata of the largest size', async () => {
    const u = {
      update_id: nextId(),
      message: {
        ...message('x'),
        text: undefined,
        caption: 'look at this_1.png!',
        photo: [
          { file_id: 'small-id', file_unique_id: 's', width: 90, height: 90, file_size: 1200 },
          { file_id: 'large-id', file_unique_id: 'l', width: 1280, height: 1280, file_size: 98765 },
        ],
      },
    };
    expect((await h.post(u)).statusCode).toBe(200);
    const e = h.sink.submissions.find((x) => x.id.endsWith(`:${u.update_id}`))!;
    expect(e.text).toBe('look at this_1.png!');
    expect(e.attachments).toEqual([{ name: 'photo.jpg', mimeType: 'image/jpeg', size: 98765, ref: 'large-id' }]);
  });

  it('edited message (shared fixture) is ignored by default and a new turn of kind edit when asked', async () => {
    const update = fixture('update_edited_message.json');
    const before = h.sink.submissions.length;
    expect((await h.post(update)).statusCode).toBe(200);
    expect(h.sink.submissions.length).toBe(before);

    const h2 = await harness({ edits: 'new_turn' });
    try {
      expect((await h2.post(update)).statusCode).toBe(200);
      expect(h2.sink.events).toHaveLength(1);
      expect(h2.sink.events[0]).toMatchObject({
        id: `telegram:${BOT.id}:10001`,
        kind: 'edit',
        text: 'Edited text',
        platformMessageId: '1365',
        sentAt: new Date(1441646600 * 1000).toISOString(),
        conversation: { kind: 'dm', user: '1111111' },
      });
    } finally {
      await h2.app.close();
      await h2.adapter.stop();
    }
  });

  it('callback query (shared fixture) is answered at once and routed as a message in its chat', async () => {
    const update = fixture('update_callback_query.json');
    expect((await h.post(update)).statusCode).toBe(200);
    expect(fake.callsOf('answerCallbackQuery').map((c) => c.params.callback_query_id)).toContain('4382bfdwdsb323b2d9');
    const e = h.sink.events.find((x) => x.id === `telegram:${BOT.id}:10002`)!;
    expect(e).toMatchObject({
      text: 'Data from button callback',
      kind: 'message',
      replyTo: '1366',
      conversation: { kind: 'dm', channel: '1111111', user: '1111111' },
    });
  });

  it('a submit failure answers 503 (Telegram redelivers) and the redelivery is taken', async () => {
    const u = { update_id: nextId(), message: message('important') };
    h.sink.submitHook = (_e, attempt) => {
      if (attempt === 1) throw new Error('queue down');
    };
    expect((await h.post(u)).statusCode).toBe(503);
    expect((await h.post(u)).statusCode).toBe(200);
    expect(h.sink.events.filter((e) => e.id.endsWith(`:${u.update_id}`))).toHaveLength(1);
  });
});

describe('telegram webhook: commands', () => {
  it('/start (shared fixture) in a private chat runs the command and answers in the chat', async () => {
    const sentBefore = fake.sent.length;
    expect((await h.post(fixture('update_message_command.json'))).statusCode).toBe(200);
    expect(h.sink.commands.at(-1)).toMatchObject({
      name: 'start',
      args: '',
      id: `telegram:${BOT.id}:10000`,
      conversation: { kind: 'dm', user: '1111111' },
    });
    expect(h.sink.submissions.some((e) => e.id === `telegram:${BOT.id}:10000`)).toBe(false);
    const answer = fake.sent.slice(sentBefore);
    expect(answer).toHaveLength(1);
    expect(answer[0]).toMatchObject({
      chat_id: 1111111,
      text: 'start: no args',
      parse_mode: 'MarkdownV2',
      reply_to: 1365,
    });
    // Redelivered: the command neither runs nor answers twice.
    expect((await h.post(fixture('update_message_command.json'))).statusCode).toBe(200);
    expect(fake.sent.length).toBe(sentBefore + 1);
  });

  it('/help@botname in a forum topic is answered in that topic', async () => {
    const text = `/help@${BOT.username} how do I reset?`;
    const u = {
      update_id: nextId(),
      message: message(text, {
        chat: FORUM_CHAT,
        entities: [commandEntity(text)],
        extra: { message_thread_id: 42, is_topic_message: true },
      }),
    };
    const sentBefore = fake.sent.length;
    expect((await h.post(u)).statusCode).toBe(200);
    expect(h.sink.commands.at(-1)).toMatchObject({
      name: 'help',
      args: 'how do I reset?',
      conversation: { channel: String(FORUM_CHAT.id), thread: '42' },
    });
    await waitFor(() => fake.sent.length > sentBefore);
    expect(fake.sent.at(-1)).toMatchObject({
      chat_id: FORUM_CHAT.id,
      message_thread_id: 42,
      reply_to: (u.message as { message_id: number }).message_id,
      text: 'help: how do I reset?',
    });
  });
});

describe('telegram webhook: before the bot is known', () => {
  it('answers 503 while getMe fails, so Telegram retries; then works', async () => {
    fake.failNext('getMe', { error_code: 502, description: 'Bad Gateway' });
    const h3 = await harness({ start: false });
    try {
      const u = { update_id: nextId(), message: message('early') };
      expect((await h3.post(u)).statusCode).toBe(503);
      expect(h3.adapter.health().state).toBe('connecting');
      expect((await h3.post(u)).statusCode).toBe(200);
      expect(h3.sink.events).toHaveLength(1);
    } finally {
      await h3.app.close();
    }
  });
});
