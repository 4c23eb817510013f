/**
 * The database schema (drizzle). CockroachDB-compatible by construction: text/UUID keys chosen by the
 * application, no SERIAL, no triggers, no advisory locks, no LISTEN/NOTIFY. Migrations in migrations/ are generated
 * from this file by `npm run db:generate` (drizzle-kit) and applied by `npm run migrate`.
 */
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per conversation (session key). `version` fences commits: a turn commits only if the version it read
 * is still current, so a stale worker (lost lock, paused process) can never commit over a newer turn.
 */
export const conversations = pgTable(
  'conversations',
  {
    key: text('key').primaryKey(),
    platform: text('platform').notNull(),
    tenant: text('tenant').notNull(),
    /** The conversation reference: enough to post here later with no inbound event. */
    ref: jsonb('ref').notNull(),
    /** Current session; `reset` starts a new one, the old items stay for audit. */
    sessionId: uuid('session_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    /** Items in the current session: the next item's position. Kept here so a commit needs no max() read. */
    itemCount: bigint('item_count', { mode: 'number' }).notNull().default(0),
    lastUserId: text('last_user_id'),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('conversations_session_idx').on(t.sessionId)],
);

/** Agent SDK items (AgentInputItem JSON) of a session, in order. */
export const sessionItems = pgTable(
  'session_items',
  {
    sessionId: uuid('session_id').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    turnId: uuid('turn_id'),
    /** `platform:tenant:userId` of the person a user item came from (null: not a person's message, or older rows). */
    senderKey: text('sender_key'),
    /** The agent that produced the item (handoffs change it mid-turn); null for input items and older rows. */
    agent: text('agent'),
    item: jsonb('item').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.position] })],
);

/** Every inbound event a committed turn consumed: the durable half of dedupe (Redis keeps the fast half). */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    eventId: text('event_id').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    turnId: uuid('turn_id').notNull(),
    senderId: text('sender_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('inbound_messages_turn_idx').on(t.turnId)],
);

/** One agent run over one batch of inbound messages. `seq` orders turns within a conversation. */
export const turns = pgTable(
  'turns',
  {
    id: uuid('id').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    sessionId: uuid('session_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    /** replied | silent (agent chose to say nothing) | apology (model failed; user told so) */
    outcome: text('outcome').notNull(),
    eventIds: jsonb('event_ids').notNull(),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    model: text('model'),
    durationMs: integer('duration_ms').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('turns_conversation_idx').on(t.conversationKey, t.seq)],
);

/**
 * The transactional outbox: a turn's reply, written in the same transaction as the turn. The outbound stage
 * delivers pending rows per conversation in `seq` order.
 */
export const outbox = pgTable(
  'outbox',
  {
    turnId: uuid('turn_id').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    ref: jsonb('ref').notNull(),
    markdown: text('markdown').notNull(),
    replyTo: text('reply_to'),
    /** The approval this message asks for: it is sent with Approve / Reject buttons (src/approvals). */
    approvalId: text('approval_id'),
    /** The approval whose prompt this message replaces (edited in place where the platform can). */
    replacesApproval: text('replaces_approval'),
    /** pending | sent | failed (permanent platform refusal) */
    status: text('status').notNull().default('pending'),
    partsTotal: integer('parts_total'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outbox_pending_idx').on(t.conversationKey, t.status, t.seq)],
);

/** Platform receipts, one per sent part. A part with a receipt is never sent again. */
export const receipts = pgTable(
  'receipts',
  {
    turnId: uuid('turn_id').notNull(),
    partIndex: integer('part_index').notNull(),
    platformMessageId: text('platform_message_id').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.turnId, t.partIndex] })],
);
