/**
 * The scheduler's tables: the database is the source of truth, Redis (BullMQ job schedulers and delayed jobs) only
 * mirrors it, so a Redis flush loses nothing (the reconciler rebuilds the mirror). Keys are chosen by the app:
 * a check-in's id is derived from its conversation key (one check-in per conversation by construction), a
 * reminder's from the turn that set it (a re-run turn sets the same reminder), a scheduled message gets a UUID.
 * Migrations are generated from this file by drizzle-kit (`npm run db:generate`).
 */
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Proactive settings of one conversation (a user's DM or a group): the check-in and the opt-in to admin
 * announcements. A permanent delivery failure (blocked, chat gone, bot removed) turns both off with the reason.
 */
export const checkins = pgTable(
  'checkins',
  {
    id: text('id').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    /** Conversation reference at the time the check-in was set; `conversations.ref` (fresher) wins when present. */
    ref: jsonb('ref').notNull(),
    /** Who set it (platform user id): the sender of the synthetic events, so turns belong to that user. */
    ownerId: text('owner_id').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** When it was last turned on: delivery failures from before do not count against it (the user came back). */
    enabledAt: timestamp('enabled_at', { withTimezone: true }).notNull().defaultNow(),
    /** Exactly one of pattern (cron, in `timezone`) and every_ms (fixed interval). */
    pattern: text('pattern'),
    everyMs: bigint('every_ms', { mode: 'number' }),
    timezone: text('timezone').notNull().default('UTC'),
    /** Active-hours window 'HH:mm'..'HH:mm' in `timezone` (may wrap midnight); null = any time. */
    activeFrom: text('active_from'),
    activeTo: text('active_to'),
    /** Tokens the check-in turns may spend per local day; 0 = no limit. */
    tokenBudget: integer('token_budget').notNull(),
    tokensDay: text('tokens_day'),
    tokensUsed: integer('tokens_used').notNull().default(0),
    /** What to check in about; the check-in event carries it, and without it the agent usually has nothing to say. */
    prompt: text('prompt'),
    /** Opted in to admin announcements (scheduled messages to all opted-in users). */
    announcements: boolean('announcements').notNull().default(false),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** The latest scheduled slot (epoch ms) that fired, and when: dedupe and the one-catch-up rule. */
    lastSlot: bigint('last_slot', { mode: 'number' }),
    lastFiredAt: timestamp('last_fired_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('checkins_enabled_idx').on(t.enabled, t.id),
    index('checkins_announcements_idx').on(t.announcements, t.id),
  ],
);

/** One-off reminders set from chat. pending -> fired (event submitted) -> delivered (turn committed) | cancelled. */
export const reminders = pgTable(
  'reminders',
  {
    id: text('id').primaryKey(),
    userKey: text('user_key').notNull(),
    conversationKey: text('conversation_key').notNull(),
    ref: jsonb('ref').notNull(),
    /** The platform user id of the person who asked: the synthetic event's sender. */
    senderId: text('sender_id').notNull(),
    text: text('text').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    timezone: text('timezone').notNull(),
    status: text('status').notNull().default('pending'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    firedAt: timestamp('fired_at', { withTimezone: true }),
  },
  (t) => [
    index('reminders_owner_idx').on(t.conversationKey, t.userKey, t.status),
    index('reminders_status_due_idx').on(t.status, t.dueAt),
  ],
);

/** Admin announcements: one-off (run_at) or recurring (pattern / every_ms), to one conversation or to all opted in. */
export const scheduledMessages = pgTable(
  'scheduled_messages',
  {
    id: text('id').primaryKey(),
    text: text('text').notNull(),
    /** 'conversation' | 'optins' */
    target: text('target').notNull(),
    conversationKey: text('conversation_key'),
    ref: jsonb('ref'),
    runAt: timestamp('run_at', { withTimezone: true }),
    pattern: text('pattern'),
    everyMs: bigint('every_ms', { mode: 'number' }),
    timezone: text('timezone').notNull().default('UTC'),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: text('created_by'),
    lastSlot: bigint('last_slot', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('scheduled_messages_enabled_idx').on(t.enabled, t.id)],
);

export type CheckinRow = typeof checkins.$inferSelect;
export type ReminderRow = typeof reminders.$inferSelect;
export type ScheduledMessageRow = typeof scheduledMessages.$inferSelect;
