/**
 * The Telegram channel on the REAL app (composition root, ingress sink, worker, outbox, delivery) against the
 * loopback fake Bot API: env for `startTestApp`, updates shaped like the documented samples in
 * test/fixtures/telegram, webhook posts, and bounded waits that read what a Telegram user would see.
 */
import postgres from 'postgres';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import type { TestDatabase } from '../../helpers/services.js';
import type { FakeBotApi, SentMessage } from '../../fakes/telegram/fake-bot-api.js';
import { BOT, fixture, SECRET } from './helpers.js';
import { settleForDuplicates } from '../../helpers/settle.js';
import { sleep, waitFor } from '../../helpers/wait.js';

export { sleep, waitFor };

export { BOT, SECRET, TOKEN } from './helpers.js';

/** The env a deployment sets for Telegram, pointed at the fake. */
export function telegramEnv(
  fake: FakeBotApi,
  mode: 'webhook' | 'polling',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_MODE: mode,
    TELEGRAM_API_ROOT: fake.url,
    ...(mode === 'webhook'
      ? { TELEGRAM_WEBHOOK_SECRET: SECRET }
      : { TELEGRAM_POLL_TIMEOUT_SECONDS: '1', TELEGRAM_LEASE_TTL_MS: '3000' }),
    ...extra,
  };
}

export interface TelegramApp {
  app: TestApp;
  adapter: ChannelAdapter;
}

export async function startTelegramApp(
  fake: FakeBotApi,
  o: {
    mode: 'webhook' | 'polling';
    env?: Record<string, string>;
    role?: 'all' | 'gateway' | 'worker';
    db?: TestDatabase;
  },
): Promise<TelegramApp> {
  const app = await startTestApp({
    env: telegramEnv(fake, o.mode, o.env),
    ...(o.role ? { role: o.role } : {}),
    ...(o.db ? { db: o.db } : {}),
  });
  const adapter = app.adapters.get('telegram');
  if (!adapter) {
    await app.close();
    throw new Error('the app did not build a telegram adapter from TELEGRAM_* env');
  }
  return { app, adapter };
}

/** Waits until the bot sent at least `n` messages to `chatId`; returns them (what the user sees, in order). */
export function repliesIn(fake: FakeBotApi, chatId: number, n = 1, ms = 20_000): Promise<SentMessage[]> {
  return waitFor(
    () => {
      const s = fake.sentTo(chatId);
      return s.length >= n && s;
    },
    `${n} message(s) from the bot in chat ${chatId}`,
    ms,
  );
}

/** POST an update to the webhook route with the secret header Telegram echoes (or another / none). */
export async function postUpdate(appUrl: string, body: unknown, secret: string | null = SECRET): Promise<number> {
  const res = await fetch(`${appUrl}/telegram/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

let nextUpdateId = 700_000 + Math.floor(Math.random() * 100_000);
let nextMessageId = 40_000;
let nextChat = 0;
const stamp = Date.now() % 1_000_000;

/** A fresh private chat: in Telegram a private chat's id is the user's id. */
export function newUser(
  first = 'Ada',
  last = 'Lovelace',
): { id: number; is_bot: false; first_name: string; last_name: string } {
  return { id: 500_000_000 + stamp * 100 + nextChat++, is_bot: false, first_name: first, last_name: last };
}

/** A fresh supergroup id (negative, -100...). */
export function newGroupId(): number {
  return -(1_000_000_000_000 + stamp * 100 + nextChat++);
}

export const newUpdateId = () => nextUpdateId++;

/**
 * A private-chat text message update built from the documented sample (update_message_command.json): same shape,
 * the sender's own chat, the given text, no command entity.
 */
export function privateUpdate(
  user: { id: number; first_name: string; last_name?: string },
  text: string,
  updateId = newUpdateId(),
): Record<string, any> {
  const sample = structuredClone(fixture('update_message_command.json'));
  const msg = sample.message;
  delete msg.entities;
  msg.message_id = nextMessageId++;
  msg.date = Math.floor(Date.now() / 1000);
  msg.chat = {
    id: user.id,
    type: 'private',
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
  };
  msg.from = {
    id: user.id,
    is_bot: false,
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
  };
  msg.text = text;
  return { update_id: updateId, message: msg };
}

/** A group (supergroup) text message update; `extra` adds entities, reply_to_message, topic fields. */
export function groupUpdate(
  chat: { id: number; is_forum?: boolean },
  from: { id: number; first_name: string; last_name?: string },
  text: string,
  extra: Record<string, unknown> = {},
): Record<string, any> {
  const sample = structuredClone(fixture('update_message_command.json'));
  const msg = sample.message;
  delete msg.entities;
  Object.assign(msg, {
    message_id: nextMessageId++,
    date: Math.floor(Date.now() / 1000),
    chat: { id: chat.id, type: 'supergroup', title: 'Team', ...(chat.is_forum ? { is_forum: true } : {}) },
    from: {
      id: from.id,
      is_bot: false,
      first_name: from.first_name,
      ...(from.last_name ? { last_name: from.last_name } : {}),
    },
    text,
    ...extra,
  });
  return { update_id: newUpdateId(), message: msg };
}

/** `@username` mention entities for every occurrence in `text`. */
export function mentions(text: string, username: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = text.indexOf(`@${username}`); i >= 0; i = text.indexOf(`@${username}`, i + 1))
    out.push({ type: 'mention', offset: i, length: username.length + 1 });
  return out;
}

/** Long enough for a wrongly accepted second reply to show up: past the pacer's interval for that kind of chat. */
export const settle = (kind: 'dm' | 'group' = 'dm') => settleForDuplicates('telegram', kind);

/** The texts the bot sent to `chat`, in order. */
export const texts = (fake: FakeBotApi, chat: number) => fake.sentTo(chat).map((m) => m.text);

/** How many times `needle` occurs in everything the bot sent to `chat`. */
export const occurrences = (fake: FakeBotApi, chat: number, needle: string) =>
  texts(fake, chat).join('\n').split(needle).length - 1;

/** A group message that @-mentions the bot ahead of `text` (with the entity Telegram sends), so the bot answers. */
export function mentionUpdate(
  chat: { id: number },
  from: { id: number; first_name: string; last_name?: string },
  text: string,
): Record<string, any> {
  const full = `@${BOT.username} ${text}`;
  return groupUpdate(chat, from, full, { entities: mentions(full, BOT.username) });
}

/** A press of an inline button `data` on the bot's `message`, as query `queryId` (the bot must answer that id). */
export function callbackUpdate(
  queryId: string,
  from: { id: number; first_name: string },
  message: { message_id: number; chat: { id: number; type: string } },
  data: string,
): Record<string, any> {
  return {
    update_id: newUpdateId(),
    callback_query: {
      id: queryId,
      from: { id: from.id, is_bot: false, first_name: from.first_name },
      chat_instance: '42',
      message: { message_id: message.message_id, date: 0, chat: message.chat },
      data,
    },
  };
}

/** Rows from the app's database (the conversations a user's messages created, the outbox a reply went through). */
export async function query<T extends Record<string, unknown>>(
  dbUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  try {
    return (await sql.unsafe(text, params as never[])) as unknown as T[];
  } finally {
    await sql.end();
  }
}
