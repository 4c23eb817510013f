/**
 * Telegram's documented limits, in one place so render, send and the outbound pacer agree.
 * https://core.telegram.org/bots/api#sendmessage and https://core.telegram.org/bots/faq (broadcasting limits).
 */
import type { ConversationRef } from '../../src/core/types.js';

/**
 * One message: 4,096 characters. Telegram counts the text after entity parsing, so measuring the MarkdownV2
 * source (escapes and markers included) is conservative: a part that fits here always fits there.
 */
export const MAX_MESSAGE_CHARS = 4096;

/** About one message per second into one chat. */
export const PRIVATE_SEND_INTERVAL_MS = 1000;

/** Groups allow 20 messages per minute: one every 3 s keeps a long multi-part reply under that. */
export const GROUP_SEND_INTERVAL_MS = 3000;

/** A chat action shows for ~5 s (or until the next message); refresh a little before it fades. */
export const TYPING_REFRESH_MS = 4500;

/** The update types this adapter handles; asked for explicitly so Telegram does not send the others. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

export function paceMs(ref: ConversationRef): number {
  return ref.kind === 'dm' ? PRIVATE_SEND_INTERVAL_MS : GROUP_SEND_INTERVAL_MS;
}

/**
 * Live answers. Private chats show a draft (sendMessageDraft), which is not a message and animates between
 * versions: about two updates a second read smoothly. Groups get a placeholder message edited in place, and edits
 * count against the group's 20 messages a minute like sends do: one every 3 s, and only for a real step forward.
 */
export const DRAFT_INTERVAL_MS = 500;
export const GROUP_EDIT_INTERVAL_MS = 3000;
export const PREVIEW_MIN_CHARS = 20;

export function previewIntervalMs(ref: ConversationRef): number {
  return ref.kind === 'dm' ? DRAFT_INTERVAL_MS : GROUP_EDIT_INTERVAL_MS;
}
