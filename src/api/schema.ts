/**
 * The agent API's tables (drizzle; the hand-written SQL twin is migrations/0005_api.sql). Everything is scoped by
 * `key_id`, the API key that created it: one key never sees another key's threads, runs, crons or store items.
 * Keys are chosen by the application (UUIDs, random ids); no SERIAL, no triggers (CockroachDB-compatible).
 */
import { boolean, doublePrecision, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** API keys. Only a SHA-256 of the random secret is stored (see auth.ts for why a fast hash is right here). */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  revokedAt: ts('revoked_at'),
});

/**
 * A thread is a gateway conversation (platform `api`, tenant = key id, channel = thread id). `incarnation` is the
 * conversation's `thread` part: a deleted thread's session stays in the database for audit (like `reset`), so a
 * thread created again with the same id must get a fresh conversation, not the old history.
 * `active_run_id` is the one run submitted to the gateway right now: the fence for multitask strategies.
 */
export const apiThreads = pgTable(
  'api_threads',
  {
    keyId: text('key_id').notNull(),
    threadId: uuid('thread_id').notNull(),
    incarnation: uuid('incarnation').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    /** idle | busy | error (the last run failed) */
    status: text('status').notNull().default('idle'),
    activeRunId: uuid('active_run_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.threadId] }), index('api_threads_updated_idx').on(t.keyId, t.updatedAt)],
);

/**
 * Runs. pending: waiting behind another run (enqueue); running: its event is submitted to the gateway;
 * success | error | interrupted: final. `turn_id` is the gateway turn that answered it.
 */
export const apiRuns = pgTable(
  'api_runs',
  {
    keyId: text('key_id').notNull(),
    runId: uuid('run_id').notNull(),
    threadId: uuid('thread_id').notNull(),
    assistantId: text('assistant_id').notNull(),
    status: text('status').notNull(),
    multitaskStrategy: text('multitask_strategy').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    /** What the run was created with: input text, sender, stream modes, on_completion. */
    kwargs: jsonb('kwargs').notNull(),
    turnId: uuid('turn_id'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.keyId, t.runId] }),
    index('api_runs_thread_idx').on(t.keyId, t.threadId, t.createdAt),
    index('api_runs_open_idx').on(t.status, t.updatedAt),
  ],
);

/** Crons: the source of truth; each enabled one is mirrored to a BullMQ job scheduler. */
export const apiCrons = pgTable(
  'api_crons',
  {
    keyId: text('key_id').notNull(),
    cronId: uuid('cron_id').notNull(),
    /** null: stateless (every firing runs on a new thread). */
    threadId: uuid('thread_id'),
    assistantId: text('assistant_id').notNull(),
    schedule: text('schedule').notNull(),
    /** The run payload: input, config, metadata, multitask_strategy. */
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    onRunCompleted: text('on_run_completed').notNull().default('delete'),
    endTime: ts('end_time'),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.cronId] })],
);

/** The key-value store. `namespace` is the labels joined by "." (labels cannot contain "."). */
export const apiStoreItems = pgTable(
  'api_store_items',
  {
    keyId: text('key_id').notNull(),
    namespace: text('namespace').notNull(),
    key: text('key').notNull(),
    value: jsonb('value').notNull(),
    ttlMinutes: doublePrecision('ttl_minutes'),
    expiresAt: ts('expires_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.namespace, t.key] }), index('api_store_expiry_idx').on(t.expiresAt)],
);
