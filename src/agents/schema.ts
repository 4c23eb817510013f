/** The agents module's tables. CockroachDB-compatible: keys chosen by the application, no SERIAL, no triggers. */
import { bigint, date, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** An admin's choice of agent for one conversation (`/agent use <name>`); rules decide where there is none. */
export const conversationAgents = pgTable('conversation_agents', {
  conversationKey: text('conversation_key').primaryKey(),
  agent: text('agent').notNull(),
  /** `platform:userId` of the admin who chose it (the command itself is in the audit log). */
  setBy: text('set_by').notNull(),
  setAt: timestamp('set_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Tokens per agent, person and UTC day: an agent's daily budget reads one row by primary key. */
export const agentUsage = pgTable(
  'agent_usage',
  {
    agent: text('agent').notNull(),
    userKey: text('user_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    tokens: bigint('tokens', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.agent, t.userKey, t.day] })],
);
