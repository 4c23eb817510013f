/** Builders for Telegram updates, shaped like the documented samples in test/fixtures/telegram. */

export const USER = { id: 1111111, is_bot: false, first_name: 'Test', last_name: 'User', username: 'test_user' };
export const OTHER_BOT = { id: 7777777, is_bot: true, first_name: 'Other', username: 'other_bot' };
export const PRIVATE_CHAT = { id: 1111111, type: 'private', first_name: 'Test' };
export const GROUP_CHAT = { id: -1001234567890, type: 'supergroup', title: 'Team' };
export const FORUM_CHAT = { id: -1009876543210, type: 'supergroup', title: 'Forum', is_forum: true };

let nextMessageId = 2000;

export interface MessageOptions {
  chat?: Record<string, unknown>;
  from?: Record<string, unknown>;
  entities?: Array<Record<string, unknown>>;
  extra?: Record<string, unknown>;
}

export function message(text: string, o: MessageOptions = {}): Record<string, unknown> {
  return {
    message_id: nextMessageId++,
    date: 1_700_000_000,
    chat: o.chat ?? PRIVATE_CHAT,
    from: o.from ?? USER,
    text,
    ...(o.entities ? { entities: o.entities } : {}),
    ...o.extra,
  };
}

/** A `mention` entity covering `@username` inside `text`. */
export function mentionEntity(text: string, username: string): Record<string, unknown> {
  const offset = text.indexOf(`@${username}`);
  if (offset < 0) throw new Error('mention not in text');
  return { type: 'mention', offset, length: username.length + 1 };
}

/** A `bot_command` entity for the leading /command[@bot]. */
export function commandEntity(text: string): Record<string, unknown> {
  const m = /^\/[^\s]+/.exec(text);
  if (!m) throw new Error('no command');
  return { type: 'bot_command', offset: 0, length: m[0].length };
}
