/**
 * The approvals module's tables. A run stopped at a tool that needs a person's approval is stored here with its
 * serialised Agents SDK RunState, so any worker can resume it once someone decides (workers stay stateless).
 */
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const approvals = pgTable(
  'approvals',
  {
    /** Short random id: it travels in button payloads (Telegram allows 64 bytes of callback data). */
    id: text('id').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    /** The turn that stopped: its outbox row is the prompt with the buttons. */
    turnId: uuid('turn_id').notNull(),
    /** `platform:userId` of the person whose message started the run: they (or an admin) decide. */
    requester: text('requester').notNull(),
    tool: text('tool').notNull(),
    /** The tool call's arguments as the model wrote them (JSON text): shown in prompts and API interrupts. */
    args: text('args'),
    /** The Agents SDK RunState (`state.toString()`), resumed with `RunState.fromString`. */
    state: text('state').notNull(),
    /** pending | approved | rejected | expired */
    status: text('status').notNull().default('pending'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('approvals_conversation_idx').on(t.conversationKey, t.status),
    index('approvals_expiry_idx').on(t.status, t.expiresAt),
  ],
);

/** Every decision click, taken or refused: who, which approval, what they asked, what happened. */
export const approvalAudit = pgTable(
  'approval_audit',
  {
    id: uuid('id').primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    approvalId: text('approval_id').notNull(),
    /** `platform:userId` of whoever clicked or typed the command. */
    actor: text('actor').notNull(),
    /** approve | reject */
    decision: text('decision').notNull(),
    /** accepted | refused | expired | decided | unknown */
    result: text('result').notNull(),
  },
  (t) => [index('approval_audit_approval_idx').on(t.approvalId)],
);
