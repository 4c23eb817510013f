/**
 * One Telegram Update -> what the pipeline should do with it: an inbound event, a command, or nothing (with a
 * reason for the debug log). Pure and synchronous: zod validates the shape, plain functions apply the rules.
 * grammY's Composer routing was considered, but it needs a Context (an Api) per update and is async; the rules
 * below are few, and as plain functions they are easier to read and to test.
 *
 * Rules:
 * - `message` in private chats: always (kind 'dm', the session belongs to from.id).
 * - groups and supergroups (kind 'group'): only when the bot is addressed: an @botname mention entity, a
 *   text_mention of the bot, a reply to one of the bot's messages, or `/command@botname`. A bare `/command` in a
 *   group counts only with `groupCommandsWithoutMention`. Forum topics (`is_topic_message`) are their own
 *   conversation: thread = message_thread_id.
 * - `edited_message`: ignored, or with `edits: 'new_turn'` an event of kind 'edit' (commands are not re-run).
 * - `callback_query`: the button's data becomes a message event from the presser in the button's chat; the
 *   caller answers the query at once (`callbackQueryId`).
 * - messages from bots are ignored unless `allowBots`; the bot's own messages always.
 * The event id is `telegram:{botId}:{update_id}`, so a redelivered update dedupes.
 */
import { approvalInvocation, parseApprovalButton, type MentionSyntax } from '../../src/core/adapter.js';
import type { CommandInvocation } from '../../src/core/adapter.js';
import { IngressError } from '../../src/core/errors.js';
import type { ConversationRef, InboundEvent } from '../../src/core/types.js';
import { updateSchema, type TgEntity, type TgFile, type TgMessage, type TgUpdate, type TgUser } from './schema.js';

export interface BotIdentity {
  id: number;
  /** Without the leading @. */
  username: string;
}

export interface ParseOptions {
  edits: 'ignore' | 'new_turn';
  allowBots: boolean;
  groupCommandsWithoutMention: boolean;
}

export type ParseOutcome =
  | { kind: 'event'; event: InboundEvent; callbackQueryId?: string }
  /** `replyTo`: the message that carried the command, so the answer lands under it. */
  | { kind: 'command'; invocation: CommandInvocation; replyTo: string }
  | { kind: 'ignored'; reason: string; callbackQueryId?: string }
  /** An Approve / Reject button: run as the decision command, answered on the button itself. */
  | { kind: 'approval'; invocation: CommandInvocation; callbackQueryId: string };

type Attachment = InboundEvent['attachments'][number];

export function eventId(bot: BotIdentity, updateId: number): string {
  return `telegram:${bot.id}:${updateId}`;
}

/** Validate a JSON-decoded body; malformed -> IngressError(400), without echoing the payload. */
export function validateUpdate(body: unknown): TgUpdate {
  const res = updateSchema.safeParse(body);
  if (!res.success) {
    const where = res.error.issues[0]?.path.join('.') || '(root)';
    throw new IngressError(400, `malformed telegram update at ${where}`);
  }
  return res.data;
}

export function parseUpdate(body: unknown, bot: BotIdentity, opts: ParseOptions, now = new Date()): ParseOutcome {
  const update = validateUpdate(body);
  const id = eventId(bot, update.update_id);
  const receivedAt = now.toISOString();
  if (update.message) return fromMessage(update, update.message, 'message', id, bot, opts, receivedAt);
  if (update.edited_message) {
    if (opts.edits === 'ignore') return { kind: 'ignored', reason: 'edited message (edits: ignore)' };
    return fromMessage(update, update.edited_message, 'edit', id, bot, opts, receivedAt);
  }
  if (update.callback_query) return fromCallback(update, id, bot, receivedAt);
  const types = Object.keys(update).filter((k) => k !== 'update_id');
  return { kind: 'ignored', reason: `unsupported update type: ${types.join(',') || 'none'}` };
}

function conversationOf(
  chat: { id: number; type: string },
  topic: { message_thread_id?: number; is_topic_message?: boolean },
  user: TgUser,
  bot: BotIdentity,
): ConversationRef {
  // Only forum topic messages get a thread. Replies in ordinary supergroups carry a message_thread_id too (the
  // reply chain's root), which must not split the group's session; is_topic_message is the reliable flag.
  const thread =
    topic.is_topic_message && topic.message_thread_id !== undefined ? String(topic.message_thread_id) : undefined;
  return {
    platform: 'telegram',
    tenant: String(bot.id),
    channel: String(chat.id),
    kind: chat.type === 'private' ? 'dm' : 'group',
    ...(chat.type === 'private' ? { user: String(user.id) } : {}),
    ...(thread ? { thread } : {}),
  };
}

function displayName(u: TgUser): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || u.username || String(u.id);
}

function slice(text: string, e: TgEntity): string {
  // Entity offsets and lengths are in UTF-16 code units, as are JS string indices.
  return text.slice(e.offset, e.offset + e.length);
}

function isBotMention(text: string, e: TgEntity, bot: BotIdentity): boolean {
  if (e.type === 'mention') return slice(text, e).toLowerCase() === `@${bot.username.toLowerCase()}`;
  if (e.type === 'text_mention') return e.user?.id === bot.id;
  return false;
}

/** Remove the bot's own mentions ("@bot what time is it" -> "what time is it"); keep the text if nothing is left. */
function stripBotMentions(text: string, entities: TgEntity[], bot: BotIdentity): string {
  let out = text;
  for (const e of [...entities].sort((a, b) => b.offset - a.offset)) {
    if (isBotMention(text, e, bot)) out = out.slice(0, e.offset) + out.slice(e.offset + e.length);
  }
  // "@bot, do X" / "@bot: do X" -> "do X"
  const stripped = out
    .replace(/[ \t]{2,}/g, ' ')
    .trim()
    .replace(/^[,:]\s*/, '');
  return stripped.length ? stripped : text.trim();
}

/**
 * Metadata only: the file itself stays at Telegram; `ref` (its file_id) is what getFile needs to fetch it at turn
 * time (a file path expires, and its URL holds the bot token, so none is stored).
 */
function attachmentsOf(msg: TgMessage): Attachment[] {
  const out: Attachment[] = [];
  const add = (f: TgFile, fallbackName: string, fallbackMime?: string, voice = false) => {
    const mimeType = f.mime_type ?? fallbackMime;
    out.push({
      name: f.file_name ?? fallbackName,
      ...(mimeType ? { mimeType } : {}),
      ...(f.file_size !== undefined ? { size: f.file_size } : {}),
      ref: f.file_id,
      ...(voice ? { voice } : {}),
    });
  };
  // Photos arrive as several sizes, smallest first; the largest is the one worth showing.
  const photo = msg.photo?.at(-1);
  if (photo) add(photo, 'photo.jpg', 'image/jpeg');
  if (msg.animation) add(msg.animation, 'animation.mp4', 'video/mp4');
  else if (msg.document) add(msg.document, 'document'); // an animation is also sent as `document`: count it once
  if (msg.video) add(msg.video, 'video.mp4', 'video/mp4');
  if (msg.audio) add(msg.audio, 'audio', undefined, true);
  if (msg.voice) add(msg.voice, 'voice note', 'audio/ogg', true);
  return out;
}

/** The message replied to, unless it is a forum topic's root (every topic message "replies" to that one). */
function realReply(msg: TgMessage): TgMessage['reply_to_message'] {
  const r = msg.reply_to_message;
  if (!r || r.forum_topic_created !== undefined) return undefined;
  if (msg.is_topic_message && r.message_id === msg.message_thread_id) return undefined;
  return r;
}

function fromMessage(
  update: TgUpdate,
  msg: TgMessage,
  kind: 'message' | 'edit',
  id: string,
  bot: BotIdentity,
  opts: ParseOptions,
  receivedAt: string,
): ParseOutcome {
  if (msg.chat.type === 'channel') return { kind: 'ignored', reason: 'channel post' };
  const from = msg.from;
  if (!from) return { kind: 'ignored', reason: 'message without sender' };
  if (from.id === bot.id) return { kind: 'ignored', reason: 'own message' };
  if (from.is_bot && !opts.allowBots) return { kind: 'ignored', reason: 'message from a bot (allowBots: false)' };

  const text = msg.text ?? msg.caption ?? '';
  const entities = (msg.text !== undefined ? msg.entities : msg.caption_entities) ?? [];
  const attachments = attachmentsOf(msg);
  if (!text.trim() && attachments.length === 0) return { kind: 'ignored', reason: 'no text or supported attachment' };

  const isPrivate = msg.chat.type === 'private';
  const conversation = conversationOf(msg.chat, msg, from, bot);
  const reply = realReply(msg);

  // A command is a bot_command entity at the very start. Edits never re-run commands.
  const cmd = entities.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (cmd && kind === 'message') {
    const [rawName = '', target] = slice(text, cmd).slice(1).split('@');
    if (target !== undefined && target.toLowerCase() !== bot.username.toLowerCase()) {
      return { kind: 'ignored', reason: 'command addressed to another bot' };
    }
    if (!isPrivate && target === undefined && !opts.groupCommandsWithoutMention) {
      return { kind: 'ignored', reason: 'group command without @botname' };
    }
    return {
      kind: 'command',
      replyTo: String(msg.message_id),
      invocation: {
        platform: 'telegram',
        tenant: String(bot.id),
        conversation,
        user: { id: String(from.id), name: displayName(from) },
        name: rawName.toLowerCase(),
        args: text.slice(cmd.offset + cmd.length).trim(),
        id,
      },
    };
  }

  const mentioned = entities.some((e) => isBotMention(text, e, bot));
  const repliesToBot = reply?.from?.id === bot.id;
  if (!isPrivate && !mentioned && !repliesToBot)
    return { kind: 'ignored', reason: 'group message not addressed to the bot' };

  const event: InboundEvent = {
    id,
    platform: 'telegram',
    tenant: String(bot.id),
    conversation,
    sender: { id: String(from.id), name: displayName(from), isBot: from.is_bot },
    text: mentioned ? stripBotMentions(text, entities, bot) : text,
    attachments,
    // "Addressed to the bot": always true here, since unaddressed group messages were dropped above.
    mentionsBot: true,
    ...(reply ? { replyTo: String(reply.message_id) } : {}),
    platformMessageId: String(msg.message_id),
    kind,
    sentAt: new Date((kind === 'edit' && msg.edit_date ? msg.edit_date : msg.date) * 1000).toISOString(),
    receivedAt,
    raw: update,
  };
  return { kind: 'event', event };
}

/**
 * A button press is routed as a message whose text is the button's data, from the presser, in the chat of the
 * message that carried the button (its topic included). It replies to that message, so the agent can tell
 * which prompt the answer belongs to. Presses on inline-mode messages (no chat) and game buttons (no data) are
 * only answered.
 */
function fromCallback(update: TgUpdate, id: string, bot: BotIdentity, receivedAt: string): ParseOutcome {
  const q = update.callback_query!;
  if (!q.message) return { kind: 'ignored', reason: 'callback query without a chat message', callbackQueryId: q.id };
  if (q.data === undefined || q.data === '')
    return { kind: 'ignored', reason: 'callback query without data', callbackQueryId: q.id };
  const button = parseApprovalButton(q.data);
  if (button) {
    const conversation = conversationOf(q.message.chat, q.message, q.from, bot);
    const user = { id: String(q.from.id), name: displayName(q.from) };
    const base = { platform: 'telegram' as const, tenant: String(bot.id), conversation, user, id };
    return { kind: 'approval', invocation: approvalInvocation(button, base), callbackQueryId: q.id };
  }
  const event: InboundEvent = {
    id,
    platform: 'telegram',
    tenant: String(bot.id),
    conversation: conversationOf(q.message.chat, q.message, q.from, bot),
    sender: { id: String(q.from.id), name: displayName(q.from), isBot: q.from.is_bot },
    text: q.data,
    attachments: [],
    mentionsBot: true,
    replyTo: String(q.message.message_id),
    kind: 'message',
    sentAt: receivedAt,
    receivedAt,
    raw: update,
  };
  return { kind: 'event', event, callbackQueryId: q.id };
}

/** How an admin command names a user on this platform (src/access/mentions.ts). */
/** Telegram mentions carry no id: `@username` is mapped to an id from messages the bot has seen. */
export const telegramMentions: MentionSyntax = {
  parse(token) {
    const t = token.trim();
    const u = /^@([A-Za-z0-9_]{3,32})$/.exec(t);
    if (u) return { kind: 'username', username: u[1]!.toLowerCase() };
    const id = /^(\d{1,20})$/.exec(t);
    return id ? { kind: 'id', id: id[1]! } : undefined;
  },
  forms: '@username or a numeric user id',
};
