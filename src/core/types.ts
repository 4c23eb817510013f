/**
 * The normalized message model every channel speaks. Adapters turn platform payloads into these types at the
 * edge; everything behind the queue (worker, outbound, scheduler) only ever sees them.
 */
import { z } from 'zod';

export const PLATFORMS = ['local', 'slack', 'discord', 'telegram', 'api'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Everything needed to post into a conversation later, with no inbound event at hand (proactive check-ins,
 * reminders, delayed replies). Stored on every inbound event.
 */
export const conversationRefSchema = z.object({
  platform: z.enum(PLATFORMS),
  /** Workspace (Slack team_id), guild (Discord) or bot id (Telegram); "default" for the local channel. */
  tenant: z.string().min(1),
  /** Channel / chat id where messages are posted. For DMs, the DM channel id. */
  channel: z.string().min(1),
  /** Thread ts (Slack), thread channel id (Discord), forum topic id (Telegram). */
  thread: z.string().optional(),
  kind: z.enum(['dm', 'group']),
  /** For DMs: the user on the other side (the session belongs to them). */
  user: z.string().optional(),
});
export type ConversationRef = z.infer<typeof conversationRefSchema>;

export const inboundEventSchema = z.object({
  /** Platform-prefixed unique id, e.g. `slack:Ev0123`, `telegram:<bot>:<update_id>`. The dedupe key. */
  id: z.string().min(1),
  platform: z.enum(PLATFORMS),
  tenant: z.string().min(1),
  conversation: conversationRefSchema,
  sender: z.object({ id: z.string().min(1), name: z.string().optional(), isBot: z.boolean() }),
  text: z.string(),
  attachments: z
    .array(
      z.object({
        name: z.string().optional(),
        mimeType: z.string().optional(),
        size: z.number().optional(),
        url: z.string().optional(),
        /** The platform's own handle when there is no lasting URL (Telegram file_id): fetched at turn time. */
        ref: z.string().optional(),
        /** A voice note (recorded in the app), as opposed to an audio file someone shared. */
        voice: z.boolean().optional(),
      }),
    )
    .default([]),
  mentionsBot: z.boolean(),
  /** Platform message id this one replies to, if any. */
  replyTo: z.string().optional(),
  /** The platform's own id of this message (Slack ts, Discord snowflake, Telegram message_id). */
  platformMessageId: z.string().optional(),
  /**
   * message: a user wrote; edit: a user edited a message; checkin / reminder: synthetic, from the scheduler;
   * approval: someone decided a pending approval (`approval` says which and how), from src/approvals.
   */
  kind: z.enum(['message', 'edit', 'checkin', 'reminder', 'approval']).default('message'),
  approval: z.object({ id: z.string().min(1).max(64), decision: z.enum(['approve', 'reject']) }).optional(),
  /**
   * Set by the ingress sink when a chat platform's message was over MAX_INPUT_CHARS: the text is dropped (never
   * stored or shown to the model) and the user is told in the chat, since the platform cannot show them a 413.
   */
  tooLongChars: z.number().int().positive().optional(),
  sentAt: z.string(),
  receivedAt: z.string(),
  /**
   * W3C traceparent of the message's ingress span, set by the ingress sink when tracing is on: the worker's turn
   * and delivery spans join the message's trace through it (ids only, never content).
   */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
});
export type Attachment = z.infer<typeof inboundEventSchema>['attachments'][number];
export type InboundEvent = z.infer<typeof inboundEventSchema> & {
  /**
   * The platform payload as received. Kept in-process for the adapter only: it is stripped before the event is
   * enqueued (payloads can carry verification tokens) and never logged.
   */
  raw?: unknown;
};

/** What the worker asks an adapter to deliver: markdown from the model, addressed to a conversation. */
export interface OutboundMessage {
  conversation: ConversationRef;
  /** Markdown as the model wrote it; each adapter renders it into its own dialect. */
  markdown: string;
  /** Platform message id to reply to / thread under, when the adapter supports it. */
  replyTo?: string;
}

/** One already-rendered, already-split piece of an outbound message, sent with one platform call. */
export interface RenderedPart {
  text: string;
  index: number;
  total: number;
  replyTo?: string;
  /** Stable per part (`<turnId>:<index>`): platforms with an idempotency aid (Discord nonce) use it. */
  idempotencyKey: string;
  /** Set on a prompt's last part: the platform shows Approve / Reject buttons for this approval (src/approvals). */
  approvalId?: string;
}

export interface SendReceipt {
  /** The platform's id for the posted message (Slack ts, Discord message id, Telegram message_id). */
  platformMessageId: string;
}

/**
 * Session key rule (documented in README, tested in test/core):
 * - DM:                   platform:tenant:dm:user
 * - channel or group:     platform:tenant:channel
 * - thread / forum topic: platform:tenant:channel:thread
 */
/** The platform of a conversation key or a principal (`platform:userId`): its first segment. */
export function platformOfKey(key: string): Platform {
  return key.slice(0, key.indexOf(':')) as Platform;
}

export function conversationKey(ref: ConversationRef): string {
  if (ref.kind === 'dm') return `${ref.platform}:${ref.tenant}:dm:${ref.user ?? ref.channel}`;
  return ref.thread
    ? `${ref.platform}:${ref.tenant}:${ref.channel}:${ref.thread}`
    : `${ref.platform}:${ref.tenant}:${ref.channel}`;
}
