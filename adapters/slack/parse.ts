/**
 * Slack event_callback -> InboundEvent, and the rules for which messages are ours to answer.
 *
 * Identity: when the bot is mentioned in a channel Slack delivers BOTH `app_mention` and `message` for the same
 * message, each with its own event_id. The id we give the pipeline therefore names the MESSAGE, not the delivery:
 * `slack:{team}:{channel}:{ts}` (an edit: `...:{ts}:edit:{edited ts}`). Both deliveries, and Slack's retries of
 * either (X-Slack-Retry-Num), map to one id and the queue's dedupe keeps exactly one. For that to be safe, both
 * deliveries must also map to the same event body, which is why they share one code path below.
 *
 * Which messages we take:
 * - DMs (`channel_type: im`): always.
 * - Channels: `app_mention` (or a `message` whose text mentions the bot: the same message); and a plain message
 *   only in a thread the bot takes part in (ThreadTracker). A mention records its thread (thread_ts ?? ts), since
 *   that is where we reply.
 * - Never our own messages; other bots' only with `allowBots`.
 * - Edits (`message_changed`) follow `edits`: 'ignore' (default) drops them; 'new_turn' passes the new text on as
 *   kind 'edit', routed like a new message, so the agent can answer the corrected question. A `message_changed` with
 *   no `edited` stamp is Slack attaching an unfurl or updating reply counts, not a user edit: dropped either way.
 * - Deletions and other subtypes (joins, topic changes, ...) and other event types: ignored, never an error.
 */
import type { MentionSyntax } from '../../src/core/adapter.js';
import type { ThreadMemory } from '../kit/thread-tracker.js';
import type { ConversationRef, InboundEvent } from '../../src/core/types.js';
import { appMentionEventSchema, messageEventSchema, type EventCallback, type InnerMessage } from './schema.js';

export type EditPolicy = 'ignore' | 'new_turn';

export interface ParseContext {
  botUserId: string;
  /** Our bot's `B…` id (from auth.test), when known: a second way to recognise our own posts. */
  botId?: string;
  allowBots: boolean;
  edits: EditPolicy;
  replyInThread: boolean;
  threads: ThreadMemory;
  now?: () => Date;
}

export type ParseOutcome = { kind: 'event'; event: InboundEvent } | { kind: 'ignored'; reason: string };

/** A delivery we handle whose shape does not fit: answered 400, like a malformed envelope. */
export class SlackPayloadError extends Error {
  override name = 'SlackPayloadError';
}

/** Subtypes that are still "a person wrote something". Everything else (joins, topics, deletions, ...) is ignored. */
const CONTENT_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message', 'bot_message']);

export function threadKey(team: string, channel: string, thread: string): string {
  return `slack:${team}:${channel}:${thread}`;
}

function tsToIso(ts: string): string {
  const ms = Math.round(Number.parseFloat(ts) * 1000);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date().toISOString();
}

function mentionPattern(botUserId: string): RegExp {
  return new RegExp(`<@${botUserId.replace(/[^A-Za-z0-9]/g, '')}(?:\\|[^>]*)?>`, 'g');
}

/** Slack escapes &, <, > in message text; the pipeline wants what the user typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function cleanText(text: string, botUserId: string): string {
  const stripped = text
    .replace(mentionPattern(botUserId), ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
  return unescapeSlack(stripped);
}

/** One shape for `message`, `app_mention` and the edited message inside `message_changed`. */
interface Candidate {
  team: string;
  channel: string;
  dm: boolean;
  msg: InnerMessage;
  explicitMention: boolean;
  edit?: { editedTs: string };
}

export async function parseEventCallback(env: EventCallback, ctx: ParseContext): Promise<ParseOutcome> {
  const team = env.team_id;
  switch (env.event.type) {
    case 'app_mention': {
      const r = appMentionEventSchema.safeParse(env.event);
      if (!r.success) throw new SlackPayloadError('app_mention event does not match schema');
      const e = r.data;
      return decide(
        { team, channel: e.channel, dm: e.channel.startsWith('D'), msg: e, explicitMention: true },
        ctx,
        env.event,
      );
    }
    case 'message': {
      const r = messageEventSchema.safeParse(env.event);
      if (!r.success) throw new SlackPayloadError('message event does not match schema');
      const e = r.data;
      const dm = e.channel_type ? e.channel_type === 'im' : e.channel.startsWith('D');
      if (e.subtype === 'message_deleted') return ignored('deletion');
      if (e.subtype === 'message_changed') {
        if (ctx.edits === 'ignore') return ignored('edit (edits: ignore)');
        const inner = e.message;
        if (!inner?.edited) return ignored('message_changed without an edit (unfurl or metadata)');
        if (e.previous_message?.text !== undefined && e.previous_message.text === inner.text)
          return ignored('edit without a text change');
        return decide(
          { team, channel: e.channel, dm, msg: inner, explicitMention: false, edit: { editedTs: inner.edited.ts } },
          ctx,
          env.event,
        );
      }
      return decide({ team, channel: e.channel, dm, msg: e, explicitMention: false }, ctx, env.event);
    }
    default:
      return ignored(`event type ${env.event.type}`);
  }
}

function ignored(reason: string): ParseOutcome {
  return { kind: 'ignored', reason };
}

async function decide(c: Candidate, ctx: ParseContext, raw: unknown): Promise<ParseOutcome> {
  const { msg } = c;
  if (!CONTENT_SUBTYPES.has(msg.subtype)) return ignored(`message subtype ${msg.subtype}`);

  const own = msg.user === ctx.botUserId || (ctx.botId !== undefined && msg.bot_id === ctx.botId);
  if (own) return ignored('own message');
  const isBot = msg.bot_id !== undefined || msg.subtype === 'bot_message';
  if (isBot && !ctx.allowBots) return ignored('bot message');
  const senderId = msg.user ?? msg.bot_id;
  if (!senderId) return ignored('message without a sender');

  const text = msg.text ?? '';
  const mentioned = c.explicitMention || mentionPattern(ctx.botUserId).test(text);
  let conversation: ConversationRef;

  if (c.dm) {
    conversation = {
      platform: 'slack',
      tenant: c.team,
      channel: c.channel,
      kind: 'dm',
      user: senderId,
      thread: msg.thread_ts,
    };
  } else if (mentioned) {
    // Replies go into the thread (a new one under the user's message, or the one they wrote in); remember it so
    // follow-ups there are answered without another mention.
    const thread = msg.thread_ts ?? (ctx.replyInThread ? msg.ts : undefined);
    if (thread) await ctx.threads.add(threadKey(c.team, c.channel, thread));
    conversation = { platform: 'slack', tenant: c.team, channel: c.channel, kind: 'group', thread };
  } else if (msg.thread_ts && (await ctx.threads.has(threadKey(c.team, c.channel, msg.thread_ts)))) {
    conversation = { platform: 'slack', tenant: c.team, channel: c.channel, kind: 'group', thread: msg.thread_ts };
  } else {
    return ignored('channel message not addressed to the bot');
  }
  if (conversation.thread === undefined) delete conversation.thread;

  const now = (ctx.now ?? (() => new Date()))();
  const id = c.edit
    ? `slack:${c.team}:${c.channel}:${msg.ts}:edit:${c.edit.editedTs}`
    : `slack:${c.team}:${c.channel}:${msg.ts}`;
  const event: InboundEvent = {
    id,
    platform: 'slack',
    tenant: c.team,
    conversation,
    sender: { id: senderId, isBot },
    text: cleanText(text, ctx.botUserId),
    attachments: (msg.files ?? []).map((f) => ({
      name: f.name,
      mimeType: f.mimetype,
      size: f.size,
      url: f.url_private,
    })),
    mentionsBot: mentioned,
    platformMessageId: msg.ts,
    kind: c.edit ? 'edit' : 'message',
    sentAt: tsToIso(c.edit?.editedTs ?? msg.ts),
    receivedAt: now.toISOString(),
    raw,
  };
  // In a thread, the message replies to the thread's root.
  if (msg.thread_ts && msg.thread_ts !== msg.ts) event.replyTo = msg.thread_ts;
  return { kind: 'event', event };
}

/** How an admin command names a user on this platform (src/access/mentions.ts). */
export const slackMentions: MentionSyntax = {
  parse(token) {
    const t = token.trim();
    const m = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(t) ?? /^([UW][A-Z0-9]{2,})$/.exec(t);
    return m ? { kind: 'id', id: m[1]! } : undefined;
  },
  forms:
    'a mention like <@U123> or a member id (if Slack sent a plain @name, the slash command needs "Escape channels, users, and links" on)',
};
