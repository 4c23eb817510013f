/**
 * The memory module's tables. CockroachDB-compatible: UUID keys
 * chosen by the app, bytea, a partial index; no extensions (no pgvector, no tsvector: CockroachDB lacks or only
 * partly has them), so vectors are scored in the worker (see store/postgres.ts).
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Long-term memories, one row per fact or conversation summary. Superseded rows are kept (audit) but never read. */
export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey(),
    userKey: text('user_key').notNull(),
    /** fact | summary */
    kind: text('kind').notNull(),
    subject: text('subject'),
    text: text('text').notNull(),
    source: text('source'),
    /**
     * Conversation key where the memory was learned. A group recalls only its own memories and shared ones; null
     * (older rows) counts as private.
     */
    scope: text('scope'),
    /** The owner allowed it to be recalled in any conversation (`/memory share <id>`, the remember tool). */
    shared: boolean('shared').notNull().default(false),
    /** `<model>:<dimensions>` of the dense vector; rows of another model are ranked lexically only. */
    embeddingModel: text('embedding_model').notNull(),
    /** What a search scans, packed (store/codec.ts): id, BM25 terms, sign bits of the vector. ~100 bytes. */
    sig: bytea('sig').notNull(),
    /** The dense vector, int8 (store/codec.ts), read for the best candidates only. */
    vec: bytea('vec').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
    supersededBy: uuid('superseded_by'),
  },
  // Every read is "this user's current memories": the partial index bounds it to exactly those rows.
  (t) => [index('memories_user_current_idx').on(t.userKey, t.createdAt).where(sql`superseded_at IS NULL`)],
);

/** How far the extraction job has read each (user, session), and how far that session has been summarised. */
export const memoryProgress = pgTable(
  'memory_progress',
  {
    userKey: text('user_key').notNull(),
    sessionId: uuid('session_id').notNull(),
    /** Session items at positions below this have been through fact extraction for this user. */
    extractedTo: bigint('extracted_to', { mode: 'number' }).notNull().default(0),
    /** Items below this are folded into the conversation's summary memory. */
    summarisedTo: bigint('summarised_to', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userKey, t.sessionId] })],
);
